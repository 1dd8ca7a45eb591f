"""Read models of the overrides, disputes and exemptions of one employer's archive (for
``views.enterprise``): the effective category and how it came about, in words a supervisor reads."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from services.registry.adapters.orm import EnterpriseRecord
from services.registry.domain import overrides as rules
from services.registry.domain.exemptions import IN_FORCE
from services.registry.service_layer import exemptions
from services.registry.service_layer.overrides import as_rule, row_view, rows


def industry_basis(session: Session, record: EnterpriseRecord) -> dict[str, Any]:
    """rule_set, factors and trace of an archive whose basis is the industry default (no report)."""
    current = next(
        (r for r in reversed(rows(session, record.credit_code)) if r.kind == rules.INDUSTRY_DEFAULT and r.cleared_at is None), None
    )
    details = current.details if current is not None else {}
    return {"rule_set": details.get("catalogue"), "factors": [], "trace": details.get("trace", [])}


def overrides_view(session: Session, record: EnterpriseRecord) -> dict[str, Any]:
    entries = rows(session, record.credit_code)
    category_entries = [r for r in entries if r.kind in rules.CATEGORY_KINDS]
    dispute_entries = [r for r in entries if r.kind in (rules.DISPUTE, rules.VERIFICATION)]
    report_ref = record.submission_id if record.report_version is not None else None
    granted = exemptions.for_employer(session, record.credit_code)
    in_force = next((e for e in granted if e.status == IN_FORCE), None)
    return {
        "effective_category": record.category,
        "report_category": record.report_category,
        "source": record.source,
        "effective_trace": rules.explain(record.report_category, report_ref, [as_rule(r) for r in category_entries]),
        "overrides": [row_view(r) for r in category_entries],
        "dispute": {
            "status": record.dispute_status,
            "label": rules.DISPUTE_LABELS[record.dispute_status],
            "submission_id": report_ref if record.dispute_status else None,
            "history": [row_view(r) for r in dispute_entries],
        },
        "exempt": in_force is not None,
        "exemptions": [exemptions.view(e) for e in granted],
    }
