"""The assessment's read models: plain queries answering dicts (routes call them in a unit of work)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.assessment.adapters.orm import (
    ArchivedEmployer,
    DisqualifiedOrg,
    Submission,
)
from services.assessment.service_layer.handlers import (
    ITEM_STATUSES,
    ItemResult,
    Preloaded,
)
from shared import i18n
from shared.contracts import Report

IN_CHUNK = 500  # values in one IN (…) of a query


def submission_view(s: Submission) -> dict[str, Any]:
    """A submission as ``GET /reports/{id}`` and ``POST /reports`` show it."""
    return {
        "submission_id": s.submission_id,
        "credit_code": s.credit_code,
        "region_code": s.region_code,
        "status": s.status,  # accepted | classified | rejected
        "reasons": s.reasons,
        "reason_messages": [  # each reason as its field, code and values; ``message`` in the reader's language (shared/localize.py)
            {"field": m.get("params", {}).get("field"), "code": m.get("code"), "params": m.get("params", {}),
             "message": i18n.text(m.get("code", ""), m.get("params", {}))}
            for m in s.reason_messages or []
        ],
        "result": s.result,
        "received_at": s.received_at.isoformat(),
        "decided_at": s.decided_at.isoformat() if s.decided_at else None,
    }


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
