"""Registering monitoring devices, and what the service learns of employers from the other services' events
(their county from the archive, their declared hazard factors from the classified report)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.monitoring.adapters.orm import Device, MonitoredEmployer
from services.monitoring.adapters.repository import as_utc
from services.monitoring.domain.rules import LimitBook
from services.monitoring.service_layer import coverage
from services.monitoring.service_layer.unit_of_work import MonitoringUnitOfWork
from shared.contracts import AssessmentClassified, ClassificationChanged
from shared.dates import china_today
from shared.rules_in_force import NoApplicableRules


class DeviceRefused(Exception):
    """A registration the service cannot take: ``code``, ``params`` (shared.i18n), the ``field`` at fault and the status."""

    def __init__(self, status: int, code: str, params: dict[str, object], field: str | None = None):
        super().__init__(code)
        self.status, self.code, self.params, self.field = status, code, params, field


def register_device(uow: MonitoringUnitOfWork, *, device_id: str, credit_code: str, factor: str, post: str, unit: str,
                    may_register: Callable[[MonitoredEmployer], bool], by: str, book: LimitBook, now: datetime) -> Device:
    """A new device (or the same registration again: idempotent); commits and refreshes the employer's coverage."""
    repo = uow.monitoring
    uow.begin_write()
    employer = repo.employer(credit_code)
    if employer is None or not may_register(employer):
        raise DeviceRefused(404, "monitoring.error.employer_not_found", {"credit_code": credit_code}, "credit_code")
    try:
        limits = book.in_force(employer.region_code, china_today(now))
    except NoApplicableRules:
        raise DeviceRefused(422, "monitoring.error.no_limits", {"region_code": employer.region_code}, "factor") from None
    limit = limits.factor(factor)
    if limit is None:
        raise DeviceRefused(422, "monitoring.error.factor_unknown", {"factor": factor, "known": sorted(f.factor for f in limits.factors)}, "factor")
    if unit != limit.unit:
        raise DeviceRefused(422, "monitoring.error.unit_mismatch", {"factor": factor, "unit": unit, "expected": limit.unit}, "unit")
    existing = repo.device(device_id)
    if existing is not None:
        if (existing.credit_code, existing.factor, existing.post, existing.unit) == (credit_code, factor, post, unit):
            return existing
        raise DeviceRefused(409, "monitoring.error.device_exists", {"device_id": device_id}, "device_id")
    device = Device(device_id=device_id, credit_code=credit_code, region_code=employer.region_code, factor=factor, kind=limit.kind,
                    post=post, unit=unit, registered_at=as_utc(now), registered_by=by, readings=0)
    repo.add(device)
    uow.session.flush()
    coverage.refresh(uow, credit_code, book, now, force=False)
    uow.commit()
    return device


def remember_employer(uow: MonitoringUnitOfWork, event: ClassificationChanged) -> None:
    """The archive's announcement: the employer's county and name (the highest archive version wins)."""
    uow.begin_write()
    employer = uow.monitoring.employer(event.credit_code)
    if employer is None:
        employer = MonitoredEmployer(credit_code=event.credit_code, region_code=event.region_code, hazards=[])
    elif employer.archive_version > event.archive_version:
        return
    employer.region_code, employer.enterprise_name, employer.archive_version = event.region_code, event.enterprise_name, event.archive_version
    employer.coverage_stale = True
    uow.monitoring.add(employer)


def remember_hazards(uow: MonitoringUnitOfWork, event: AssessmentClassified) -> None:
    """The classified report: the hazard factors it declares (the latest report wins); its county until the archive's."""
    uow.begin_write()
    employer = uow.monitoring.employer(event.credit_code)
    if employer is None:
        employer = MonitoredEmployer(credit_code=event.credit_code, region_code=event.region_code, enterprise_name=event.enterprise_name, hazards=[])
    elif employer.hazards_assessed_on is not None and employer.hazards_assessed_on > event.assessed_on:
        return
    if employer.archive_version == 0:
        employer.region_code = event.region_code
    employer.hazards = sorted({factor.factor for factor in event.factors})
    employer.hazards_assessed_on = event.assessed_on
    employer.coverage_stale = True
    uow.monitoring.add(employer)
