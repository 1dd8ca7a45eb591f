"""The console's repositories over one SQL session (the unit of work's)."""

from __future__ import annotations

import abc
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, select

from shared.db import advisory_key
from services.console.adapters.orm import AccountRow, AuditRow, SessionRow
from services.console.domain.accounts import Account
from services.console.domain.audit import GENESIS, AuditEntry, entry_hash

_FIELDS = ("id", "username", "display_name", "role", "region_code", "credit_code", "password_hash", "admin", "disabled",
           "failed_sign_ins", "locked_until", "created_by", "created_at")


def _account(row: AccountRow) -> Account:
    return Account(**{name: getattr(row, name) for name in _FIELDS})


class AbstractAccountRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, account_id: str) -> Account | None: ...

    @abc.abstractmethod
    def by_username(self, username: str) -> Account | None: ...

    @abc.abstractmethod
    def save(self, account: Account) -> None:
        """Add a new account or write an existing one's changes."""

    @abc.abstractmethod
    def count(self) -> int: ...


class AbstractSessionRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, row: SessionRow) -> None: ...

    @abc.abstractmethod
    def get(self, id_hash: str) -> SessionRow | None: ...

    @abc.abstractmethod
    def end_all_of(self, account_id: str, now: datetime) -> int: ...


class AbstractAuditLog(abc.ABC):
    @abc.abstractmethod
    def append(self, entry: AuditEntry) -> None: ...


class SqlAccountRepository(AbstractAccountRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, account_id: str) -> Account | None:
        row = self.session.get(AccountRow, account_id)
        return _account(row) if row else None

    def by_username(self, username: str) -> Account | None:
        row = self.session.exec(select(AccountRow).where(AccountRow.username == username.lower())).first()
        return _account(row) if row else None

    def save(self, account: Account) -> None:
        row = self.session.get(AccountRow, account.id)
        values = {name: getattr(account, name) for name in _FIELDS}
        values["username"] = account.username.lower()
        if values["created_at"] is None:
            del values["created_at"]
        if row is None:
            self.session.add(AccountRow(**values))
            return
        for name, value in values.items():
            setattr(row, name, value)
        self.session.add(row)

    def count(self) -> int:
        return self.session.exec(select(func.count()).select_from(AccountRow)).one()


class SqlSessionRepository(AbstractSessionRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: SessionRow) -> None:
        self.session.add(row)

    def get(self, id_hash: str) -> SessionRow | None:
        return self.session.get(SessionRow, id_hash)

    def end_all_of(self, account_id: str, now: datetime) -> int:
        rows = self.session.exec(select(SessionRow).where(SessionRow.account_id == account_id, SessionRow.ended_at.is_(None))).all()  # type: ignore[union-attr]
        for row in rows:
            row.ended_at = now
            self.session.add(row)
        return len(rows)


class SqlAuditLog(AbstractAuditLog):
    """Appends under the unit of work's transaction; the chain's last hash is read in it (SQLite serialises
    writers; on PostgreSQL a transaction-scoped advisory lock makes appenders take turns)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, entry: AuditEntry) -> None:
        if self.session.get_bind().dialect.name == "postgresql":  # one appender at a time: the chain must not fork
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key("console_audit")})
        last = self.session.exec(select(AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()  # type: ignore[union-attr]
        previous = last or GENESIS
        self.session.add(AuditRow(at=entry.at, actor=entry.actor, action=entry.action, target=entry.target, detail=entry.detail,
                                  client=entry.client, previous_hash=previous, hash=entry_hash(previous, entry)))
        self.session.flush()
