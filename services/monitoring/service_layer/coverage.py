"""What online monitoring covers of each monitored employer (``MonitoringCoverage``): the hazard factors its
report declares, and per factor the devices, the devices that reported in the period and the episodes in it.
Published when it changes, and every day for every monitored employer."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from services.monitoring.adapters.repository import utc
from services.monitoring.domain.rules import LimitBook
from services.monitoring.service_layer.unit_of_work import MonitoringUnitOfWork
from shared.contracts import FactorCoverage, MonitoringCoverage
from shared.dates import CHINA, china_today
from shared.rules_in_force import NoApplicableRules

DEFAULT_PERIOD_DAYS = 30


def compute(uow: MonitoringUnitOfWork, credit_code: str, book: LimitBook, now: datetime) -> MonitoringCoverage | None:
    repo = uow.monitoring
    employer = repo.employer(credit_code)
    if employer is None:
        return None
    today = china_today(now)
    try:
        days = book.in_force(employer.region_code, today).coverage_period_days
    except NoApplicableRules:
        days = DEFAULT_PERIOD_DAYS
    devices = repo.devices_of(credit_code)
    # the period is the last ``coverage_period_days``, but never before monitoring began (its first device registered,
    # or the first shift with data, which a back-fill may put earlier): a newly monitored employer has no clean month yet
    began = [registered.astimezone(CHINA).date() for d in devices if (registered := utc(d.registered_at)) is not None]
    if (first := repo.first_data_day([d.device_id for d in devices])) is not None:
        began.append(first)
    start = max(today - timedelta(days=days - 1), min(began, default=today - timedelta(days=days - 1)))
    start = min(start, today)
    since = datetime.combine(start, datetime.min.time(), CHINA)
    reporting = repo.reporting_devices([d.device_id for d in devices], since)
    exceedances = repo.exceedances_by_factor(credit_code, start)
    factors = sorted({d.factor for d in devices})
    return MonitoringCoverage(
        producer="monitoring", credit_code=credit_code, region_code=employer.region_code, period_start=start, period_end=today,
        hazards=list(employer.hazards)[:100],
        factors=[FactorCoverage(factor=f, devices=sum(d.factor == f for d in devices),
                                reporting=sum(d.factor == f and d.device_id in reporting for d in devices),
                                exceedances=exceedances.get(f, 0)) for f in factors][:100])


def refresh(uow: MonitoringUnitOfWork, credit_code: str, book: LimitBook, now: datetime, force: bool) -> bool:
    """Publish the employer's coverage when it changed (or ``force``: the daily round); it is no longer stale. Does
    not commit."""
    found = compute(uow, credit_code, book, now)
    employer = uow.monitoring.employer(credit_code)
    if found is None or employer is None:
        return False
    employer.coverage_stale = False
    uow.monitoring.add(employer)
    digest = hashlib.sha256(json.dumps(found.model_dump(mode="json", exclude={"event_id", "occurred_at"}), sort_keys=True).encode()).hexdigest()
    if not force and employer.coverage_digest == digest:
        return False
    employer.coverage_digest, employer.coverage_published_on = digest, found.period_end
    uow.publish(found)
    return True


COVERAGE_CHUNK = 200  # employers per transaction of the round


def daily(uow: MonitoringUnitOfWork, book: LimitBook, now: datetime, chunk: int = COVERAGE_CHUNK) -> int:
    """The coverage round (every minute): the employers not yet published today are published even if unchanged,
    those marked stale when changed; the others are not read at all. ``chunk`` employers per committed transaction
    (readings never wait for the whole round)."""
    today = china_today(now)
    due = uow.monitoring.coverage_due(today)
    uow.commit()
    published = 0
    for first in range(0, len(due), chunk):
        uow.begin_write()
        for code in due[first:first + chunk]:
            employer = uow.monitoring.employer(code)
            force = employer is not None and employer.coverage_published_on != today
            published += refresh(uow, code, book, now, force)
        uow.commit()
    return published
