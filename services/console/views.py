"""The console's read models: accounts an administrator manages, and the audit log with its chain check."""

from __future__ import annotations

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from services.console.adapters.orm import AccountRow, AuditRow
from services.console.domain.accounts import Account
from services.console.domain.audit import AuditEntry, first_break
from shared.jurisdiction import region_prefix

PAGE_MAX = 200


def accounts_of(engine: Engine, administrator: Account, *, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """Accounts of the administrator's jurisdiction: staff and auditors by their region, employers by the county
    of their archive when the account was made (``region_code``)."""
    prefix = region_prefix(administrator.region_code or "")
    with Session(engine) as session:
        where = AccountRow.region_code.startswith(prefix)  # type: ignore[union-attr]
        total = session.exec(select(func.count()).select_from(AccountRow).where(where)).one()
        rows = session.exec(select(AccountRow).where(where).order_by(AccountRow.role, AccountRow.username)
                            .offset(offset).limit(min(limit, PAGE_MAX))).all()
    return [_shown(row) for row in rows], total


def _shown(row: AccountRow) -> dict:
    return {"username": row.username, "display_name": row.display_name, "role": row.role,
            "scope": row.credit_code if row.role == "employer" else row.region_code, "admin": row.admin,
            "disabled": row.disabled, "locked_until": row.locked_until, "created_by": row.created_by, "created_at": row.created_at}


def audit_log(engine: Engine, *, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    with Session(engine) as session:
        total = session.exec(select(func.count()).select_from(AuditRow)).one()
        rows = session.exec(select(AuditRow).order_by(AuditRow.seq.desc()).offset(offset).limit(min(limit, PAGE_MAX))).all()  # type: ignore[union-attr]
    return [row.model_dump() for row in rows], total


def verify_audit(engine: Engine) -> int | None:
    """The sequence number of the first entry whose link or hash does not hold, or None: the chain is whole."""
    with Session(engine) as session:
        rows = session.exec(select(AuditRow).order_by(AuditRow.seq)).all()  # type: ignore[arg-type]
    broken = first_break([(AuditEntry(r.at, r.actor, r.action, r.target, r.detail, r.client), r.previous_hash, r.hash) for r in rows])
    return rows[broken].seq if broken is not None else None

