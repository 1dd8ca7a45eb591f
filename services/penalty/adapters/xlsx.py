"""The case-file review (案卷评查) as an .xlsx workbook: sheet 案卷 (one row per case, with its flags)
and sheet 时间线 (one row per step).

Every title and every enumerated value (harm, procedure, status, decision, step) is a code of the
``xlsx`` catalogue, the review's flags are the review's own codes (``domain.review.FLAG_CODES``): in
Chinese unless ``locale`` asks for English. Codes, ids, dates and amounts are written as they are. Not an
import format: nothing reads it back."""

from __future__ import annotations

import io
from typing import Any

from services.penalty.domain.review import FLAG_CODES
from shared import i18n
from shared.xlsx import append, joined, word, yes_no  # text cleaned, formula-like text written as text

CASE_COLUMNS = (
    "xlsx.review.column.case_code", "xlsx.review.column.case_id", "xlsx.column.credit_code", "xlsx.column.region_code",
    "xlsx.review.column.item_code", "xlsx.review.column.found_on", "xlsx.review.column.harm", "xlsx.review.column.major",
    "xlsx.review.column.procedure", "xlsx.column.status", "xlsx.review.column.decision", "xlsx.review.column.deadline",
    "xlsx.review.column.proposed_min", "xlsx.review.column.proposed_max", "xlsx.review.column.fine",
    "xlsx.review.column.departure_reason", "xlsx.review.column.flags",
)
STEP_COLUMNS = (
    "xlsx.review.column.case_code", "xlsx.review.column.case_id", "xlsx.review.column.seq", "xlsx.review.column.step",
    "xlsx.column.status", "xlsx.review.column.on", "xlsx.review.column.by", "xlsx.column.deadline", "xlsx.review.column.detail",
)
HARM = {"none": "xlsx.value.harm.none", "minor": "xlsx.value.harm.minor", "serious": "xlsx.value.harm.serious"}
PROCEDURE = {"three_step": "xlsx.value.procedure.three_step", "commitment": "xlsx.value.procedure.commitment",
             "on_the_spot": "xlsx.value.procedure.on_the_spot"}
STATUS = {  # services/penalty/domain/procedure.py
    "recorded": "xlsx.value.case_status.recorded", "open": "xlsx.value.case_status.open", "educated": "xlsx.value.case_status.educated",
    "rectifying": "xlsx.value.case_status.rectifying", "committed": "xlsx.value.case_status.committed",
    "penalty_pending": "xlsx.value.case_status.penalty_pending", "closed": "xlsx.value.case_status.closed",
}
DECISION = {"no_penalty": "xlsx.value.decision.no_penalty", "penalty": "xlsx.value.decision.penalty"}
STEP = {  # shared.contracts.penalty.CaseStep
    "opened": "xlsx.value.case_step.opened", "educated": "xlsx.value.case_step.educated",
    "rectification_ordered": "xlsx.value.case_step.rectification_ordered", "commitment_signed": "xlsx.value.case_step.commitment_signed",
    "correction_verified": "xlsx.value.case_step.correction_verified", "correction_failed": "xlsx.value.case_step.correction_failed",
    "escalated": "xlsx.value.case_step.escalated", "penalty_proposed": "xlsx.value.case_step.penalty_proposed",
    "decided": "xlsx.value.case_step.decided", "closed": "xlsx.value.case_step.closed",
}
ACTOR = {"system": "xlsx.value.actor.system"}  # the daily sweep
FLAG = FLAG_CODES  # the review's flags: the penalty catalogue's words, as the review shows them on screen


def review_workbook(files: list[dict[str, Any]], locale: str = i18n.ZH) -> bytes:
    """``files`` as ``views.case_files`` gives them."""
    from openpyxl import Workbook

    def says(code: str) -> str:
        return i18n.text(code, locale=locale)

    book = Workbook()
    sheet = book.active
    sheet.title = says("xlsx.review.sheet.cases")
    append(sheet, [says(code) for code in CASE_COLUMNS])
    for f in files:
        low, high = f["proposed_fine_range"] or (None, None)
        append(sheet, [f["case_code"], f["id"], f["credit_code"], f["region_code"], f["item_code"], f["found_on"],
                      word(HARM, f["harm"], locale), yes_no(f["major"], locale), word(PROCEDURE, f["procedure"], locale),
                      word(STATUS, f["status"], locale), word(DECISION, f["decision"], locale), f["deadline"], low, high,
                      f["fine_yuan"], f["departure_reason"], joined((word(FLAG, flag, locale) for flag in f["flags"]), locale, strong=True)])
    steps = book.create_sheet(says("xlsx.review.sheet.timeline"))
    append(steps, [says(code) for code in STEP_COLUMNS])
    for f in files:
        for s in f["timeline"] or []:
            append(steps, [f["case_code"], f["id"], s["seq"], word(STEP, s["step"], locale), word(STATUS, s["status"], locale), s["on"],
                           word(ACTOR, s["by"], locale), s["deadline"], s["detail"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
