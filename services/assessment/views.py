"""The assessment's read models: plain queries answering dicts (routes call them in a unit of work)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from services.assessment.adapters.orm import (
    ArchivedEmployer,
    DisqualifiedOrg,
    Submission,
)
from services.assessment.domain.checklist import RunningScore
from services.assessment.domain.rules import NATURES, RuleSet
from services.assessment.service_layer.handlers import (
    ITEM_STATUSES,
    ItemResult,
    PartialPreview,
    Preloaded,
    Preview,
)
from shared import i18n
from shared.contracts import AssessmentClassified, Report
from shared.i18n import Message

IN_CHUNK = 500  # values in one IN (…) of a query


def submission_view(s: Submission) -> dict[str, Any]:
    """A submission as ``GET /reports/{id}`` and ``POST /reports`` show it."""
    return {
        "submission_id": s.submission_id,
        "credit_code": s.credit_code,
        "region_code": s.region_code,
        "status": s.status,  # accepted | classified | rejected
        "reasons": s.reasons,
        # each reason as its field, code and values; ``message`` in the reader's language (shared/localize.py)
        "reason_messages": [reason_view(m) for m in s.reason_messages or []],
        "result": s.result,
        "received_at": s.received_at.isoformat(),
        "decided_at": s.decided_at.isoformat() if s.decided_at else None,
    }


def reason_view(message: dict[str, Any]) -> dict[str, Any]:
    """A reason a report is (or would be) rejected: its field, code and values, and its text (Chinese; the
    answer's middleware renders it in the reader's language from the code)."""
    params = message.get("params", {})
    return {"field": params.get("field"), "code": message.get("code"), "params": params, "message": i18n.text(message.get("code", ""), params)}


def submission(session: Session, submission_id: str) -> dict[str, Any] | None:
    """The submission's status (with its result or reasons), or None when there is no such submission."""
    found = session.get(Submission, submission_id)
    return submission_view(found) if found else None


def submission_document(session: Session, submission_id: str) -> dict[str, Any] | None:
    """What the printable documents are made of: the submission's scope and status, the report as
    submitted and the classification (None until classified); None when there is no such submission."""
    found = session.get(Submission, submission_id)
    if found is None:
        return None
    return {
        "credit_code": found.credit_code,
        "region_code": found.region_code,
        "status": found.status,
        "report": found.report,
        "result": found.result,
    }


def batch_view(results: list[ItemResult]) -> dict[str, Any]:
    """``POST /reports:batch``'s answer: one result per item, in the request's order (``index``, ``status``,
    and ``submission_id``, ``errors`` or ``detail`` when they apply), and the count of each status."""
    totals = dict.fromkeys(("received", *ITEM_STATUSES), 0)
    items: list[dict[str, Any]] = []
    for r in results:
        totals[r.status] += 1
        item: dict[str, Any] = {"index": r.index, "status": r.status}
        if r.submission_id is not None:
            item["submission_id"] = r.submission_id
        if r.errors:
            item["errors"] = [{"field": p.field, "message": p.message} for p in r.errors]
        if r.detail is not None:
            item["detail"] = r.detail
        items.append(item)
    totals["received"] = len(results)
    return {"results": items, "totals": totals}


def preloaded(session: Session, reports: list[Report]) -> Preloaded:
    """What deciding ``reports`` (a chunk of ``POST /reports:batch``) reads, in a few queries instead of a few per
    report: the submissions kept under their ids, each employer's latest submission (as
    ``SqlSubmissionRepository.latest_for`` answers it: the last received), where the archive has each employer,
    and the decisions about their assessing organisations."""
    ids = {str(r.submission_id) for r in reports}
    codes = {r.enterprise.credit_code for r in reports}
    orgs = {r.assessor.org_id for r in reports if r.assessor.type == "organisation" and r.assessor.org_id}
    latest_received: dict[str, tuple[Any, str]] = {}
    for chunk in _chunks(codes):
        for credit_code, submission_id, received_at in session.exec(
            select(Submission.credit_code, Submission.submission_id, Submission.received_at).where(col(Submission.credit_code).in_(chunk))
        ):
            if credit_code not in latest_received or received_at > latest_received[credit_code][0]:
                latest_received[credit_code] = (received_at, submission_id)
    wanted = ids | {submission_id for _, submission_id in latest_received.values()}
    kept = {s.submission_id: s for chunk in _chunks(wanted)
            for s in session.exec(select(Submission).where(col(Submission.submission_id).in_(chunk)))}
    return Preloaded(
        submission_ids=ids, credit_codes=codes, org_ids=orgs,
        submissions={i: kept[i] for i in ids if i in kept},
        latest={code: kept[submission_id] for code, (_, submission_id) in latest_received.items() if submission_id in kept},
        archived_regions={a.credit_code: a.region_code for chunk in _chunks(codes)
                          for a in session.exec(select(ArchivedEmployer).where(col(ArchivedEmployer.credit_code).in_(chunk)))},
        orgs={o.org_id: o for chunk in _chunks(orgs) for o in session.exec(select(DisqualifiedOrg).where(col(DisqualifiedOrg.org_id).in_(chunk)))},
    )


def _chunks(values: set[str]) -> list[list[str]]:
    ordered = sorted(values)
    return [ordered[i:i + IN_CHUNK] for i in range(0, len(ordered), IN_CHUNK)]


# --------------------------------------------------------------------------- what the console's report form reads


def report_form(rule_set: RuleSet, region_code: str, on: date) -> dict[str, Any]:
    """``GET /rules/report-form``: what a form for the report (附件4) needs from the rule set in force for
    ``region_code`` on ``on``: the factor catalogue (name → nature), the free-silica threshold, the 附件2
    checklist item by item (every item may be answered n/a, 不适用: the rule removes it from both sides) and the
    management bands; the rule data's own Chinese texts as they are."""
    checklist, catalogue = rule_set.self_check_checklist, rule_set.factor_catalogue
    return {
        "region_code": region_code,
        "on": on.isoformat(),
        "rule_set": {"jurisdiction": rule_set.jurisdiction, "version": rule_set.version,
                     "effective_from": rule_set.effective_from.isoformat(), "provisional": rule_set.provisional, "source": rule_set.source},
        "natures": list(NATURES),
        "factor_catalogue": {
            "provisional": catalogue.provisional, "source": catalogue.source,
            "factors": [{"name": name, "nature": nature} for name, nature in catalogue.factors.items()],
        },
        "silica_threshold_percent": rule_set.silica_threshold_percent,
        "checklist": {
            "provisional": checklist.provisional, "source": checklist.source,
            "total_points": sum(item.points for item in checklist.items()),
            "sections": [{"id": section.id, "title": section.title} for section in checklist.sections],
            "items": [{"id": item.id, "section": section.id, "text": item.title, "points": item.points, "veto": item.veto, "na_allowed": True}
                      for section in checklist.sections for item in section.items],
        },
        "management_bands": [{"grade": band.grade, "min": band.min} for band in rule_set.management_bands.bands],
    }


# --------------------------------------------------------------------------- a preview (POST /reports:preview)

ENVELOPE = ("event_id", "schema_version", "occurred_at", "producer")  # what an announcement has and a preview has not


def classified_result(event: AssessmentClassified) -> dict[str, Any]:
    """A classification as ``POST /reports:preview`` shows it: ``GET /reports/{id}``'s ``result`` without the event's envelope."""
    return event.model_dump(mode="json", exclude=set(ENVELOPE))


def preview_view(preview: Preview) -> dict[str, Any]:
    """``POST /reports:preview``'s answer: ``{"outcome": "classified", "result"}``, ``{"outcome": "rejected",
    "reasons"}`` or, for a checklist answered in part, ``{"outcome": "partial", "rule_set", "unanswered", "running"}``."""
    if isinstance(preview, AssessmentClassified):
        return {"outcome": "classified", "result": classified_result(preview)}
    if isinstance(preview, PartialPreview):
        return {"outcome": "partial", "rule_set": preview.rule_set.ref().model_dump(mode="json"),
                "unanswered": list(preview.running.unanswered), "running": running_view(preview.running)}
    return {"outcome": "rejected", "reasons": [reason_view(_said(m)) for m in preview.messages]}


def _said(message: Message) -> dict[str, Any]:
    return message.model_dump(mode="json")


def running_view(running: RunningScore) -> dict[str, Any]:
    return {
        "items": running.items,
        "answered": running.answered,
        "earned": float(running.earned),
        "applicable": float(running.applicable),
        "score": float(running.score) if running.score is not None else None,
        "not_applicable": [item.id for item in running.not_applicable],
        "lost_points": [lost.model_dump(mode="json") for lost in running.lost],
        "vetoed": [item.id for item in running.vetoed],
    }


# --------------------------------------------------------------------------- the submissions a caller may read (GET /reports)

SUBMISSION_STATUSES = ("accepted", "classified", "rejected")


def submissions_page(
    session: Session, *, credit_code: str | None, region_prefix: str | None, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """``GET /reports``: submissions newest first (received), ``limit`` from ``offset``, and how many there are.

    ``credit_code``: one employer's only; ``region_prefix``: those recorded in a region (a county's code, or the
    prefix of a city's or a province's counties: ``shared.jurisdiction.region_prefix``). The enterprise's name and
    the classification's category and grades are read out of the stored JSON, not the whole report and trace."""
    conditions: list[Any] = []
    if credit_code is not None:
        conditions.append(col(Submission.credit_code) == credit_code)
    if region_prefix is not None:
        conditions.append(_in_region(region_prefix))
    if status is not None:
        conditions.append(col(Submission.status) == status)
    report, result = col(Submission.report), col(Submission.result)
    rows = session.exec(
        select(
            Submission.submission_id, Submission.credit_code, Submission.region_code, Submission.status, Submission.received_at,
            Submission.decided_at, report[("enterprise", "name")].as_string(), report["assessed_on"].as_string(),
            result["category"].as_string(), result["hazard_grade"].as_string(), result["management_grade"].as_string(),
            result["score"].as_float(),
        ).where(*conditions)
        .order_by(col(Submission.received_at).desc(), col(Submission.submission_id).desc())
        .offset(offset).limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(Submission).where(*conditions)).one()
    items = []
    for submission_id, code, region, state, received_at, decided_at, name, assessed_on, category, hazard, management, score in rows:
        classified = state == "classified"
        items.append({
            "submission_id": submission_id, "credit_code": code, "enterprise_name": name, "region_code": region,
            "assessed_on": assessed_on, "received_at": received_at.isoformat(), "decided_at": decided_at.isoformat() if decided_at else None,
            "status": state, "category": category if classified else None, "hazard_grade": hazard if classified else None,
            "management_grade": management if classified else None, "score": score if classified else None,
            "links": {"self": f"/reports/{submission_id}"},
        })
    return {"items": items, "total": total}


def _in_region(prefix: str) -> Any:
    """Submissions recorded in the counties whose codes start with ``prefix``: a county by its code, a city or a
    province as the range of its six-digit codes (an index range in any collation; ``LIKE 'p%'`` is not one
    outside the C collation), kept to the prefix."""
    column = col(Submission.region_code)
    if len(prefix) >= 6:
        return column == prefix
    return (column >= prefix.ljust(6, "0")) & (column <= prefix.ljust(6, "9")) & column.startswith(prefix)
