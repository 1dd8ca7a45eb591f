"""Registry HTTP API: the reminders due today (RULES §1) for a region.

Supervision staff and auditors list the employers of their jurisdiction whose re-assessment is
due within ``within_days`` days or overdue, and the new employers without a report whose first
assessment is overdue. An employer's token gets 403; a region outside the caller's jurisdiction
answers 404. The same reminders are announced once each on ``ohs.registry.reminder-due`` by the
daily sweep (``sent_at`` says when).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from services.registry import views
from services.registry.domain.exemptions import china_today
from services.registry.entrypoints.reports import reader_region
from shared.http import ReaderLocale, ReaderPrincipal, RuntimeDep, UnitOfWorkDep

router = APIRouter(tags=["reminders 提醒"])


@router.get(
    "/reminders",
    summary="Re-assessments due soon or overdue, and new employers' first assessments overdue, with the days",
    description="Most urgent first: re-assessments overdue (longest first), first assessments overdue, then re-assessments "
    "due within `within_days` days (soonest first; due today: `days` 0). Computed for today (China date) from the archive.",
    responses={
        401: {"description": "no valid bearer token"},
        403: {"description": "an employer's token: reminders are for supervision staff and auditors"},
        404: {"description": "the region lies outside the caller's jurisdiction"},
    },
)
async def get_reminders(
    principal: ReaderPrincipal,
    runtime: RuntimeDep,
    uow: UnitOfWorkDep,
    locale: ReaderLocale,
    region_code: str | None = Query(
        default=None, max_length=12, description="GB/T 2260 code; a city or province code covers its counties (default: the caller's own region)"
    ),
    within_days: int | None = Query(
        default=None, ge=0, le=3650, description="a re-assessment due within this many days is due soon (default: OHS_REMINDER_WITHIN_DAYS, 90)"
    ),
    limit: int | None = Query(
        default=None, ge=0, le=1000, description="only the most urgent items, at most this many (0–1000; default: all); `counts` and `total` still count every reminder"
    ),
) -> dict[str, Any]:
    code = reader_region(principal, region_code)  # any county code: reminders need not be in the region tree
    days = runtime.settings.reminder_within_days if within_days is None else within_days
    today = china_today()
    return await uow.run(lambda u: views.reminders(u.session, code, today, days, locale, limit))
