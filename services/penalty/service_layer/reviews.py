"""案卷评查 and 行政行为码 coverage: read-only views over the case table and timelines."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from services.penalty.adapters.orm import Case, CaseStep
from services.penalty.domain.case_codes import case_code_problem
from services.penalty.domain.review import FLAGS, CaseFile, TimelineStep, review
from services.penalty.service_layer.handlers import Rulebook, code_region
from shared.jurisdiction import region_prefix


def _cases(session: Session, region_code: str, start: date | None = None, end: date | None = None) -> list[Case]:
    query = select(Case).where(col(Case.region_code).startswith(region_prefix(region_code)))
    if start:
        query = query.where(col(Case.found_on) >= start)
    if end:
        query = query.where(col(Case.found_on) <= end)
    return list(session.exec(query.order_by(col(Case.found_on), col(Case.created_at))))


def code_coverage(session: Session, region_code: str) -> dict[str, Any]:
    cases = _cases(session, region_code)
    without = [{"id": c.id, "case_code": c.case_code, "problem": case_code_problem(c.case_code)} for c in cases
               if case_code_problem(c.case_code)]
    codes = [c.case_code for c in cases if c.case_code]
    total = len(cases)
    return {"region_code": region_code, "total": total, "with_code": total - len(without),
            "coverage": 1.0 if total == 0 else round((total - len(without)) / total, 4),
            "duplicates": sorted({c for c in codes if codes.count(c) > 1}), "without": without}


def _steps(session: Session, case_ids: list[str]) -> dict[str, list[CaseStep]]:
    grouped: dict[str, list[CaseStep]] = {i: [] for i in case_ids}
    if case_ids:
        for step in session.exec(select(CaseStep).where(col(CaseStep.case_id).in_(case_ids)).order_by(col(CaseStep.case_id), col(CaseStep.seq))):
            grouped[step.case_id].append(step)
    return grouped


def case_files(session: Session, region_code: str, start: date | None, end: date | None, rulebook: Rulebook,
               today: date) -> list[dict[str, Any]]:
    from services.penalty.entrypoints.http import case_view  # the same view as GET /cases/{id}

    cases = _cases(session, region_code, start, end)
    steps = _steps(session, [c.id for c in cases])
    files = []
    for case in cases:
        proposed = case.proposed_fine or {}
        file = CaseFile(case.case_code, case.status, case.decision, case.decided_on, case.rectification_deadline,
                        proposed.get("min_yuan"), proposed.get("max_yuan"), case.fine_yuan, case.departure_reason)
        try:
            due = rulebook.no_penalty.in_force(code_region(case), case.found_on).rules_procedure.fine_due_days
        except LookupError:
            due = 90
        flags = review(file, [TimelineStep(s.step, s.on, s.deadline) for s in steps[case.id]], today, due)
        files.append({**case_view(case, steps[case.id]), "flags": flags, "flag_texts": [FLAGS[f] for f in flags]})
    return files


def workbook(files: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "案卷"
    sheet.append(["行政行为码 case_code", "案件编号 case_id", "统一社会信用代码 credit_code", "行政区划 region_code", "违法事项 item_code",
                  "发现日期 found_on", "危害后果 harm", "重大违法 major", "程序 procedure", "状态 status", "决定 decision",
                  "整改期限 deadline", "裁量下限 proposed_min_yuan", "裁量上限 proposed_max_yuan", "罚款 fine_yuan",
                  "偏离理由 departure_reason", "问题 flags"])
    for f in files:
        low, high = f["proposed_fine_range"] or (None, None)
        sheet.append([f["case_code"], f["id"], f["credit_code"], f["region_code"], f["item_code"], f["found_on"], f["harm"],
                      "yes" if f["major"] else "no", f["procedure"], f["status"], f["decision"], f["deadline"], low, high,
                      f["fine_yuan"], f["departure_reason"], ", ".join(f["flags"])])
    steps = book.create_sheet("时间线")
    steps.append(["行政行为码 case_code", "案件编号 case_id", "序号 seq", "环节 step", "状态 status", "日期 on", "经办人 by",
                  "期限 deadline", "内容 detail"])
    for f in files:
        for s in f["timeline"] or []:
            steps.append([f["case_code"], f["id"], s["seq"], s["step"], s["status"], s["on"], s["by"], s["deadline"], s["detail"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
