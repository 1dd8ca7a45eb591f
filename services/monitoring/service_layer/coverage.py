"""What online monitoring covers of each monitored employer (``MonitoringCoverage``): the hazard factors its
report declares, and per factor the devices, the devices that reported in the period and the episodes in it.
Published when it changes, and every day for every monitored employer."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

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
    start = today - timedelta(days=days - 1)
    since = datetime.combine(start, datetime.min.time(), CHINA)
    devices = repo.devices_of(credit_code)
    reporting = {row.device_id for row in repo.shifts_since([d.device_id for d in devices], since) if row.count}
    episodes = [e for e in repo.episodes_of(credit_code, since) if e.measure != "silent"]
    factors = sorted({d.factor for d in devices})
    return MonitoringCoverage(
        producer="monitoring", credit_code=credit_code, region_code=employer.region_code, period_start=start, period_end=today,
        hazards=list(employer.hazards)[:100],
        factors=[FactorCoverage(factor=f, devices=sum(d.factor == f for d in devices),
                                reporting=sum(d.factor == f and d.device_id in reporting for d in devices),
                                exceedances=sum(e.factor == f for e in episodes)) for f in factors][:100])


def refresh(uow: MonitoringUnitOfWork, credit_code: str, book: LimitBook, now: datetime, force: bool) -> bool:
    """Publish the employer's coverage when it changed (or ``force``: the daily round). Does not commit."""
    found = compute(uow, credit_code, book, now)
    if found is None:
        return False
    digest = hashlib.sha256(json.dumps(found.model_dump(mode="json", exclude={"event_id", "occurred_at"}), sort_keys=True).encode()).hexdigest()
    employer = uow.monitoring.employer(credit_code)
    if employer is None or (not force and employer.coverage_digest == digest):
        return False
    employer.coverage_digest, employer.coverage_published_on = digest, found.period_end
    uow.monitoring.add(employer)
    uow.publish(found)
    return True


def publish_all(uow: MonitoringUnitOfWork, book: LimitBook, now: datetime, force: bool) -> int:
    """Every monitored employer's coverage (changed ones only unless ``force``); commits."""
    published = sum(refresh(uow, code, book, now, force) for code in uow.monitoring.monitored_employers())
    uow.commit()
    return published


def daily(uow: MonitoringUnitOfWork, book: LimitBook, now: datetime) -> int:
    """The daily round: employers not yet published today are published even if unchanged; others when changed."""
    today = china_today(now)
    published = 0
    for code in uow.monitoring.monitored_employers():
        employer = uow.monitoring.employer(code)
        force = employer is not None and employer.coverage_published_on != today
        published += refresh(uow, code, book, now, force)
    uow.commit()
    return published
