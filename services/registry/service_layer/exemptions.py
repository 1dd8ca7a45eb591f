"""免检 (RULES §6, §8): grant, revoke, and the daily sweep that starts and expires exemptions.

Every step works on the unit of work it is given, appends to the hash-chained change log with its
actor, and announces each change of "in force" on ``ohs.registry.exemption-changed`` (through the
outbox). The rules (period, overlap, what is due on a day) are in ``domain.exemptions``.

Status changes are claimed with a conditional ``UPDATE … WHERE status = <the status read>``, so
two sweeps running at once (two registry processes, or the timer and the cron command) announce
each change once: the second finds the row already moved and skips it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date

from services.registry.adapters.orm import EnterpriseRecord, ExemptionRecord
from services.registry.domain import exemptions as rules
from services.registry.domain.words import Said
from services.registry.service_layer.overrides import actable_record
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal
from shared.contracts import ExemptionChanged, utc_now
from shared.errors import coded

log = logging.getLogger(__name__)
PRODUCER = "registry"


class ExemptionConflict(ValueError):
    """Overlaps another exemption, or the exemption has already ended (answered 409)."""


class InvalidPeriod(ValueError):
    """valid_until before valid_from, or already past (answered 422)."""


def sweep_actor(today: date) -> str:
    return f"system:registry exemption sweep {today.isoformat()}"


def _announce(uow: RegistryUnitOfWork, row: ExemptionRecord, record: EnterpriseRecord | None, exempt: bool, reason: Said) -> None:
    uow.publish(
        ExemptionChanged(
            producer=PRODUCER,
            credit_code=row.credit_code,
            exemption_id=uuid.UUID(row.id),
            region_code=record.region_code if record is not None else row.region_code,
            exempt=exempt,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            reason=reason.text(),
            **reason.message,
        ),
    )


def _log(uow: RegistryUnitOfWork, row: ExemptionRecord, record: EnterpriseRecord | None, change: str, actor: str, reason: Said) -> None:
    category = record.category if record is not None else None
    uow.change_log.append(
        region_code=record.region_code if record is not None else row.region_code,
        credit_code=row.credit_code,
        change=change,
        category_before=category,
        category_after=category,
        actor=actor,
        reason=reason.text(),  # in Chinese
        payload={
            "exemption_id": row.id,
            "valid_from": row.valid_from.isoformat(),
            "valid_until": row.valid_until.isoformat(),
            "basis": row.basis,
            "status": row.status,
        },
    )


def grant(
    uow: RegistryUnitOfWork, credit_code: str, *, valid_from: date, valid_until: date, reason: str, basis: str, actor: str, today: date
) -> ExemptionRecord:
    """Grant a 免检 to an archived employer; in force at once when ``valid_from`` is today or earlier."""
    record = uow.enterprises.get(credit_code)
    if record is None:
        raise LookupError(credit_code)
    if problem := rules.period_problem(valid_from, valid_until, today):
        period = {"valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat(), "today": today.isoformat()}
        raise coded(InvalidPeriod(problem), "errors.exemption.ends_before_start" if valid_until < valid_from
                    else "errors.exemption.already_past", **period)
    for other in uow.exemptions.open_for(credit_code, rules.OPEN):
        if rules.overlaps(valid_from, valid_until, other.valid_from, other.valid_until):
            raise coded(ExemptionConflict(
                f"overlaps exemption {other.id} ({other.valid_from} – {other.valid_until}, {other.status}): "
                "an employer holds one exemption at a time; revoke that one first"
            ), "errors.exemption.overlaps", exemption_id=other.id, valid_from=other.valid_from.isoformat(),
                valid_until=other.valid_until.isoformat())
    starts_now = valid_from <= today
    now = utc_now()
    row = ExemptionRecord(
        id=str(uuid.uuid4()), credit_code=credit_code, region_code=record.region_code, valid_from=valid_from,
        valid_until=valid_until, reason=reason, basis=basis, status=rules.IN_FORCE if starts_now else rules.GRANTED,
        granted_by=actor, granted_at=now, started_at=now if starts_now else None,
    )
    uow.exemptions.add(row)
    _log(uow, row, record, "exemption_granted", actor, rules.granted(valid_from, valid_until, today, basis, reason))
    if starts_now:
        _announce(uow, row, record, True, rules.granted_announced(valid_from, valid_until, reason))
    return row


def revoke(uow: RegistryUnitOfWork, credit_code: str, exemption_id: str, *, reason: str, actor: str) -> ExemptionRecord:
    row = uow.exemptions.get(exemption_id)
    if row is None or row.credit_code != credit_code:
        raise LookupError(exemption_id)
    was = row.status
    if was not in rules.OPEN or not uow.exemptions.claim(row, was, status=rules.REVOKED, ended_at=utc_now(), ended_by=actor, end_reason=reason):
        raise coded(ExemptionConflict(f"exemption {exemption_id} has already ended ({row.status})"), "errors.exemption.ended",
                    exemption_id=exemption_id)
    record = uow.enterprises.get(credit_code)
    _log(uow, row, record, "exemption_revoked", actor, rules.revoked(row.valid_from, row.valid_until, reason))
    if was == rules.IN_FORCE:  # a revoked exemption that never came into force was never announced
        _announce(uow, row, record, False, rules.revoked_announced(reason))
    return row


def sweep_exemptions(uow: RegistryUnitOfWork, today: date) -> list[str]:
    """Start the exemptions due on ``today`` and expire those whose ``valid_until`` has passed.

    Idempotent: a second run on the same day finds nothing due and announces nothing. Returns
    one line per change (in Chinese). The caller commits."""
    done: list[str] = []
    open_rows = uow.exemptions.with_status(rules.OPEN)
    actor = sweep_actor(today)
    for row in open_rows:
        action = rules.due(row.status, row.valid_from, row.valid_until, today)
        if action is None:
            continue
        now = utc_now()
        if action == rules.START:
            if not uow.exemptions.claim(row, rules.GRANTED, status=rules.IN_FORCE, started_at=now):
                continue
            change, exempt = "exemption_started", True
        elif action == rules.END:
            if not uow.exemptions.claim(row, rules.IN_FORCE, status=rules.EXPIRED, ended_at=now, ended_by=actor, end_reason="expired"):
                continue
            change, exempt = "exemption_expired", False
        else:  # LAPSE: its whole period passed before any sweep saw it; it was never announced
            if not uow.exemptions.claim(row, rules.GRANTED, status=rules.EXPIRED, ended_at=now, ended_by=actor, end_reason="lapsed"):
                continue
            change, exempt = "exemption_expired", None
        said = rules.swept(action, row.valid_from, row.valid_until)
        record = uow.enterprises.get(row.credit_code)
        _log(uow, row, record, change, actor, said)
        if exempt is not None:
            _announce(uow, row, record, exempt, said)
        done.append(f"{row.credit_code} {row.id}: {said.text()}")
    return done


def run_sweep(uow: RegistryUnitOfWork, today: date) -> list[str]:
    """One 免检 sweep, committed; returns what changed (the timer and ``ohs registry sweep exemptions``)."""
    done = sweep_exemptions(uow, today)
    uow.commit()
    return done


# --------------------------------------------------------------------------- staff commands (HTTP)


def grant_by_staff(
    uow: RegistryUnitOfWork, principal: Principal, credit_code: str, *, valid_from: date, valid_until: date, reason: str, basis: str,
    today: date,
) -> ExemptionRecord:
    actable_record(uow, principal, credit_code)
    row = grant(uow, credit_code, valid_from=valid_from, valid_until=valid_until, reason=reason, basis=basis, actor=principal.describe(),
                today=today)
    uow.commit()
    return row


def revoke_by_staff(uow: RegistryUnitOfWork, principal: Principal, credit_code: str, exemption_id: str, *, reason: str) -> ExemptionRecord:
    actable_record(uow, principal, credit_code)
    row = revoke(uow, credit_code, exemption_id, reason=reason, actor=principal.describe())
    uow.commit()
    return row
