"""Read models of the archive, for HTTP (CQRS-style views: plain queries, no domain logic)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from services.registry import override_views
from services.registry.adapters.orm import ClassificationVersion, EnterpriseRecord


def _version_view(v: ClassificationVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "submission_id": v.submission_id,
        "category": v.category,
        "hazard_grade": v.hazard_grade,
        "management_grade": v.management_grade,
        "score": v.score,
        "assessed_on": v.assessed_on.isoformat(),
        "region_code": v.region_code,
        "rule_set": v.rule_set,
        "became_current": v.became_current,
        "recorded_at": v.recorded_at.isoformat(),
    }


def enterprise(session: Session, credit_code: str) -> dict[str, Any] | None:
    record = session.get(EnterpriseRecord, credit_code)
    if record is None:
        return None
    versions = list(
        session.exec(
            select(ClassificationVersion)
            .where(ClassificationVersion.credit_code == credit_code)
            .order_by(col(ClassificationVersion.version))
        )
    )
    current = next((v for v in versions if v.version == record.report_version), None)  # None: an industry default
    basis = (
        {"rule_set": current.rule_set, "factors": current.factors, "trace": current.trace}
        if current is not None
        else override_views.industry_basis(session, record)
    )
    return {
        **summary(record),
        "industry_codes": record.industry_codes,
        "employees": record.employees,
        "submission_id": record.submission_id,
        "next_assessment_due": record.next_assessment_due.isoformat() if record.next_assessment_due else None,
        "production_started_on": record.production_started_on.isoformat() if record.production_started_on else None,
        **basis,
        "history": [_version_view(v) for v in versions],
        **override_views.overrides_view(session, record),  # effective_category, report_category, overrides, dispute, 免检
    }


def summary(record: EnterpriseRecord) -> dict[str, Any]:
    return {
        "credit_code": record.credit_code,
        "name": record.name,
        "region_code": record.region_code,
        "category": record.category,
        "hazard_grade": record.hazard_grade,
        "management_grade": record.management_grade,
        "score": record.score,
        "assessed_on": record.assessed_on.isoformat() if record.assessed_on else None,
        "archive_version": record.archive_version,
        "updated_at": record.updated_at.isoformat(),
    }


def enterprises(
    session: Session, region_prefix: str | None, category: str | None, limit: int, offset: int, credit_code: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    conditions = []
    if credit_code:  # an employer's listing: its own record only
        conditions.append(EnterpriseRecord.credit_code == credit_code)
    if region_prefix:
        conditions.append(col(EnterpriseRecord.region_code).startswith(region_prefix))
    if category:
        conditions.append(EnterpriseRecord.category == category)
    total = session.exec(select(func.count()).select_from(EnterpriseRecord).where(*conditions)).one()
    page = session.exec(
        select(EnterpriseRecord).where(*conditions).order_by(col(EnterpriseRecord.credit_code)).offset(offset).limit(limit)
    )
    return total, [summary(r) for r in page]
