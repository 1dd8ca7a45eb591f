"""The assessment's read models: plain queries answering dicts (routes call them in a unit of work)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from services.assessment.adapters.orm import Submission


def submission_view(s: Submission) -> dict[str, Any]:
    """A submission as ``GET /reports/{id}`` and ``POST /reports`` show it."""
    return {
        "submission_id": s.submission_id,
        "credit_code": s.credit_code,
        "region_code": s.region_code,
        "status": s.status,  # accepted | classified | rejected
        "reasons": s.reasons,
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
