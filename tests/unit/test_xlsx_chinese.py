"""Chinese first, on paper and in the inbox (issue 14, item 4).

A county supervisor downloads every workbook the platform exports — the archive (分类监督执法档案), the
agency's figures (统计指标), the case-file review (案卷评查), the publication of a draw (一公开), the
empty 附件6 and a bulk upload's errors file — and opens it in a spreadsheet: every sheet is named in
Chinese, every header speaks Chinese, statuses and outcomes are words (已结案, 随机抽取, 是), and no cell
holds an English sentence or an untranslated value; only codes and ids stay as they are. The archive
still reads back as 附件6 (its import columns are the bulk reader's, in every language).

An employer then hears of a rectification item: the notice is Chinese from its subject to its last
line, the deadline written 2026年3月16日, whatever the event's older texts were written in.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from services.assessment.adapters import spreadsheets as bulk
from services.notification.adapters.rules import load_templates
from services.notification.domain import notifications as rules
from services.notification.domain import templates as wording
from services.notification.service_layer import handlers
from services.penalty.adapters.xlsx import review_workbook
from services.registry.adapters.orm import EnterpriseRecord
from services.registry.adapters.rules import load_region_tree
from services.registry.adapters.xlsx import ARCHIVE_BULK_TITLES, archive_workbook, figures_workbook
from services.registry.domain import figures as figure_rules
from services.sampling.adapters.xlsx import publication_xlsx
from shared import i18n
from tests.unit.notification.events import archived, portrait, rectification, reminder
from tests.unit.notification.fakes import FakeUnitOfWork

HAN = re.compile(r"[\u3400-\u9fff]")
# two English words in a row ("no valid case code", "Field required"): a sentence nobody translated
ENGLISH_WORDS = re.compile(r"\b[A-Za-z]{2,}\b[ ,;:]+\b[A-Za-z]{2,}\b")
# a cell that is nothing but a lower-case identifier ("closed", "not_inspected", "three_step"): a value left as its code
RAW_VALUE = re.compile(r"^[a-z]+(_[a-z]+)*$")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

A, B, C = "91141029MA0GRT8U3L", "91141029MA0GRT9X5Q", "91141024MA0H2K7P1B"
POOL_HASH, SEED = hashlib.sha256(b"pool v4").hexdigest(), hashlib.sha256(b"seed").hexdigest()
CASE_1, CASE_2 = "5f0c8a54-3c1e-4d59-9a52-0f6c2b8f9e11", "0b7d2d43-88a1-4e57-bd14-7e1b1e6d0a22"


def sheets(content: bytes | Path) -> dict[str, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(content if isinstance(content, Path) else io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def assert_chinese(found: dict[str, list[tuple[Any, ...]]], header_rows: int = 1) -> None:
    """Every sheet name and header cell has Chinese; no text cell is an English sentence or a raw value."""
    for name, rows in found.items():
        assert HAN.search(name), f"sheet {name!r} is not named in Chinese"
        for row in rows[:header_rows]:
            for title in row:
                assert title is None or HAN.search(str(title)), f"{name}: header {title!r} is not Chinese"
                assert not re.search(r"[A-Za-z]{2,}", str(title or "")), f"{name}: header {title!r} is not Chinese only"
        for row in rows:
            for value in row:
                if isinstance(value, str):
                    assert not ENGLISH_WORDS.search(value), f"{name}: English in {value!r}"
                    assert not RAW_VALUE.match(value), f"{name}: {value!r} is a value left untranslated"
                    assert not re.match(i18n.CODE_PATTERN, value), f"{name}: {value!r} is a message code without its text"


# --------------------------------------------------------------------------- the archive and the figures (registry)


def archive_records() -> list[EnterpriseRecord]:
    return [
        EnterpriseRecord(credit_code=A, name="乡宁县示例水泥有限公司", region_code="141029", industry_codes=["C3011", "C3021"], employees=86,
                         category="丙", hazard_grade="Ⅲ", management_grade="B", score=82.5, assessed_on=date(2023, 7, 25), archive_version=3),
        EnterpriseRecord(credit_code=B, name="乡宁县示例化工有限公司", region_code="141029", industry_codes=["C2614"], employees=40,
                         category="乙", hazard_grade="Ⅱ", management_grade="A", score=91.0, assessed_on=date(2023, 5, 10), archive_version=1),
        EnterpriseRecord(credit_code=C, name="洪洞县示例煤业有限公司", region_code="141024", industry_codes=["B0610"], employees=320,
                         category="甲", hazard_grade="Ⅰ", management_grade="A", score=95.0, assessed_on=date(2024, 1, 8), archive_version=2),
    ]


def test_the_archive_speaks_chinese_and_still_reads_back_as_the_bulk_layout(tmp_path: Path) -> None:
    content, counts = archive_workbook(archive_records(), load_region_tree(), "141000", datetime(2024, 5, 1, 10, 30, tzinfo=UTC))
    found = sheets(content)
    assert list(found) == ["分类监督执法档案", "说明"] and counts["total"] == 3
    assert_chinese(found)
    notes = dict(found["说明"])
    assert notes["导出时间"] == "2024年5月1日 10:30:00（北京时间）" and (notes["甲类"], notes["乙类"], notes["丙类"]) == (1, 1, 1)
    assert "附件6" in notes["列说明"] and "provisional" not in " ".join(str(v) for v in notes.values())

    english = sheets(archive_workbook(archive_records(), load_region_tree(), "141000", datetime(2024, 5, 1), locale="en")[0])
    header = english["Classified supervision archive"][0]
    assert header[: len(ARCHIVE_BULK_TITLES)] == ARCHIVE_BULK_TITLES  # the import columns: the bulk reader's titles in every language
    assert header[len(ARCHIVE_BULK_TITLES):] == ("Occupational-disease hazard risk grade", "Occupational-health management grade",
                                                 "Comprehensive risk category", "Archive version", "Receiving agency")
    assert set(ARCHIVE_BULK_TITLES) <= set(bulk.TITLES)


def test_the_figures_and_what_each_one_counts_are_chinese() -> None:
    def county(code: str, name: str, known: int, classified: int, raised: int, cleared: int) -> dict[str, Any]:
        counts = figure_rules.CountyCounts(employers_known=known, employers_classified=classified, shortcomings_raised=raised,
                                           shortcomings_cleared=cleared, shortcomings_overdue=1,
                                           screenings={"eligible_if_corrected": 3, "not_eligible": 1, "no_violation": 2},
                                           decisions={"no_penalty": 2, "penalty": 1})
        return figure_rules.row(code, name, counts)

    rows = [county("141029", "乡宁县", 12, 9, 7, 4), county("141024", "洪洞县", 30, 21, 11, 12)]
    result = {"region_code": "141000", "region_name": "临汾市", "period": figure_rules.Period(date(2026, 1, 1), date(2026, 3, 31)).view(),
              "rows": rows, "totals": figure_rules.totals("141000", "临汾市", rows), "definitions": dict(figure_rules.DEFINITIONS)}
    found = sheets(figures_workbook(result, datetime(2026, 4, 2, 9, 0)))
    assert list(found) == ["统计指标", "说明"]
    assert_chinese(found)
    assert found["统计指标"][-1][1] == "合计"
    notes = dict(found["说明"])
    assert notes["统计期间"] == "2026年1月1日至2026年3月31日（含首尾两日，北京时间）"
    assert all(HAN.search(str(text)) for text in notes.values() if isinstance(text, str))  # every definition in Chinese


# --------------------------------------------------------------------------- the case-file review (penalty)


def case_file(case_id: str, *, status: str, decision: str | None, flags: list[str], timeline: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    file = {"case_code": "14102920260301000012", "id": case_id, "credit_code": A, "region_code": "141029", "item_code": "70-4",
            "found_on": "2026-03-01", "harm": "minor", "major": False, "procedure": "three_step", "status": status, "decision": decision,
            "deadline": "2026-03-16", "proposed_fine_range": None, "fine_yuan": None, "departure_reason": None, "flags": flags,
            "timeline": timeline}
    return {**file, **changes}


def test_the_case_file_review_names_statuses_steps_and_findings_in_chinese() -> None:
    closed = case_file(CASE_1, status="closed", decision="no_penalty", flags=[], timeline=[
        {"seq": 1, "step": "opened", "status": "open", "on": "2026-03-01", "by": "乡宁县 张三", "deadline": None, "detail": "现场检查发现"},
        {"seq": 2, "step": "educated", "status": "educated", "on": "2026-03-01", "by": "乡宁县 张三", "deadline": None,
         "detail": "教育引导：讲解职业病危害因素检测要求"},
        {"seq": 3, "step": "rectification_ordered", "status": "rectifying", "on": "2026-03-02", "by": "乡宁县 张三", "deadline": "2026-03-16",
         "detail": "责令于 2026年3月16日前改正"},
        {"seq": 4, "step": "correction_verified", "status": "closed", "on": "2026-03-12", "by": "system", "deadline": None, "detail": "复查：已改正"},
    ])
    pending = case_file(CASE_2, status="penalty_pending", decision="penalty", harm="serious", major=True, procedure=None, case_code=None,
                        proposed_fine_range=[5000, 20000], flags=["missing_case_code", "penalty_without_fine"], timeline=[
                            {"seq": 1, "step": "decided", "status": "penalty_pending", "on": "2026-02-01", "by": "乡宁县 李四",
                             "deadline": None, "detail": "予以处罚"}])
    found = sheets(review_workbook([closed, pending]))
    assert list(found) == ["案卷", "时间线"]
    assert_chinese(found)
    cases = {row[1]: row for row in found["案卷"][1:]}
    assert cases[CASE_1][6:11] == ("轻微", "否", "三步法", "已结案", "不予处罚")
    assert cases[CASE_2][6:11] == ("严重", "是", None, "待处罚", "予以处罚")
    findings = cases[CASE_2][16].split("；")  # the review's findings, in the review's own Chinese words
    assert len(findings) == 2 and all(HAN.search(f) and "." not in f for f in findings), findings
    assert [row[3] for row in found["时间线"][1:5]] == ["立案", "教育引导", "责令限期改正", "复查：已改正"]
    assert found["时间线"][4][6] == "系统（自动）"  # the daily sweep, named


# --------------------------------------------------------------------------- the publication of a draw (sampling)


def test_the_publication_is_chinese_for_the_public_and_keeps_the_seed_and_hashes_as_published() -> None:
    plan = {"id": "7c1e0b55-2f0a-4c55-b1e9-3d2f3c4b5a60", "region_code": "141024", "period": "2026", "parent_plan_id": None,
            "ratios": {"甲": "0.03", "乙": "0.05", "丙": "0.1"}, "minimums": {"甲": 1, "乙": 2, "丙": 3}, "inspectors_per_task": 2,
            "jia_non_site": True, "full_coverage_industries": ["B0610"], "exclusions": [{"credit_code": B, "reason": "已注销"}],
            "defaults_from": {"jurisdiction": "CN", "version": "2026.1"}}
    target = {"task_id": "d9b0e1f2-0001-4a5b-8c7d-000000000001", "credit_code": C, "enterprise_name": "洪洞县示例煤业有限公司",
              "region_code": "141024", "category": "甲", "selection": "full_coverage", "on_site": False,
              "inspectors": [{"id": "141024-007", "name": "王五"}, {"id": "141024-011", "name": "赵六"}]}
    doc = {"plan": plan, "commitment": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "algorithm_version": "ohs-draw-v1",
           "status": "completed",
           "draw": {"draw_id": "e3b0c442-98fc-1c14-9afb-f4c8996fb924", "drawn_at": "2026-01-05T02:00:00+00:00", "seed": SEED,
                    "pool_version": 4, "pool_hash": POOL_HASH, "pool": [{"credit_code": C, "category": "甲", "full_coverage": True}],
                    "targets": [target, {**target, "task_id": "d9b0e1f2-0001-4a5b-8c7d-000000000002", "selection": "random", "on_site": True}]},
           "results": [{"task_id": target["task_id"], "credit_code": C, "outcome": "violations", "inspected_on": "2026-02-10",
                        "item_codes": ["70-4", "71-2"], "reason": None, "case_ids": [CASE_1]},
                       {"task_id": "d9b0e1f2-0001-4a5b-8c7d-000000000002", "credit_code": C, "outcome": "not_inspected",
                        "inspected_on": None, "item_codes": [], "reason": "停产", "case_ids": []}]}
    found = sheets(publication_xlsx(doc))
    assert list(found) == ["计划", "名录", "抽取结果", "检查结果"]
    assert_chinese(found)
    plan_rows = dict(found["计划"])
    assert plan_rows["状态"] == "已完成" and plan_rows["甲类非现场检查"] == "是" and plan_rows["抽查比例（丙类）"] == "0.1"
    assert plan_rows["随机种子"] == SEED and plan_rows["名录哈希"] == POOL_HASH  # as published: anyone checks them against the JSON
    assert [row[6:8] for row in found["抽取结果"][1:]] == [("全覆盖", "否"), ("随机抽取", "是")]
    assert [row[2] for row in found["检查结果"][1:]] == ["发现违法行为", "未检查"]


# --------------------------------------------------------------------------- the 附件6 template and the errors file (assessment)


def test_the_bulk_template_explains_itself_in_chinese_and_keeps_the_readers_titles(tmp_path: Path) -> None:
    path = tmp_path / "附件6模板.xlsx"
    bulk.write_template(path)
    found = sheets(path)
    assert list(found) == ["附件6", "说明"]
    assert_chinese(found)
    assert list(found["附件6"][0]) == list(bulk.TITLES)  # the header is what the reader accepts
    assert bulk.parse_employer_sheet(path) == []  # the example row (序号 示例) is never imported
    help_texts = {row[0]: row[2] for row in found["说明"][1:] if row and row[0] in bulk.TITLES}
    assert help_texts["评估方式"] == "“自评”或“机构”" and help_texts["序号"].endswith("填“示例”的行为示例，不导入")

    errors = tmp_path / "errors.xlsx"
    bulk.write_errors(errors, [("3", A, "评估日期", "“2023-13-01”应为日期（YYYY-MM-DD 或 YYYY/MM/DD，或设为日期格式的单元格）")])
    found = sheets(errors)
    assert list(found) == ["错误清单"] and found["错误清单"][0] == ("行号", "统一社会信用代码", "字段", "错误说明")
    assert_chinese(found)


# --------------------------------------------------------------------------- notifications


TEMPLATES = load_templates()


def words_of(note: Any) -> str:
    return f"{note.subject}\n{note.body}"


def test_a_rectification_item_is_told_in_chinese_with_chinese_dates() -> None:
    uow = FakeUnitOfWork()
    handlers.remember_employer(uow, archived(A, "乡宁县示例水泥有限公司"))
    raised = rectification(A, "raised", shortcoming_code="test_expired:矽尘",
                           shortcoming_text="矽尘: 工作场所职业病危害因素检测已过期 (严重, 接触 24 人)")
    handlers.notify_rectification_progressed(uow, raised, templates=TEMPLATES)

    [note] = uow.for_recipient("employer", A)
    assert note.subject == "新的整改事项：矽尘: 工作场所职业病危害因素检测已过期 (严重, 接触 24 人)（期限 2026年3月16日）"
    assert note.body.startswith("乡宁县示例水泥有限公司（统一社会信用代码 91141029MA0GRT8U3L）有一项新的整改事项：")
    assert "请于 2026年3月16日前完成整改" in note.body
    assert not ISO_DATE.search(words_of(note)) and not ENGLISH_WORDS.search(words_of(note))


def test_every_notice_is_chinese_even_when_the_event_wrote_english() -> None:
    """Events of an older registry carry English system texts (a reminder's reason, a sweep's detail, a late
    submission flag's message): the notice leaves them out or names the shortcoming by its kind."""
    uow = FakeUnitOfWork()
    late = dict(shortcoming_code="submission_late", shortcoming_text="report received 2026-11-30, 855 working days late")
    for step in ("raised", "reminded", "submitted", "returned", "cleared", "overdue"):
        detail = "deadline 2026-03-16 passed 3 days ago without an accepted correction: listed for enforcement"
        reason = "照片不清晰，请补充公示照片" if step == "returned" else None
        handlers.notify_rectification_progressed(uow, rectification(A, step, detail=detail, reason=reason, **late), templates=TEMPLATES)
    handlers.notify_portrait_changed(uow, portrait(A, "乡宁县示例水泥有限公司"), templates=TEMPLATES)
    for kind in ("reassessment_due_soon", "reassessment_overdue", "first_assessment_overdue"):
        handlers.notify_reminder_due(uow, reminder(A, "乡宁县示例水泥有限公司", kind=kind), templates=TEMPLATES)

    notes = {n.kind: n for n in uow.notifications.rows.values()}
    assert set(notes) == set(wording.MESSAGE_KINDS)
    for kind, note in notes.items():
        assert HAN.search(note.subject) and HAN.search(note.body), kind
        assert not ENGLISH_WORDS.search(words_of(note)), (kind, words_of(note))
        assert not ISO_DATE.search(words_of(note)), (kind, words_of(note))
    assert "评估报告逾期报送" in notes["rectification_raised"].subject
    assert "退回原因：照片不清晰，请补充公示照片" in notes["rectification_returned"].body
    assert "各维度：检测 高（2 项）；培训 低（0 项）" in notes["portrait_changed"].body


def test_every_catalogue_text_fills_with_its_kinds_facts_in_both_languages() -> None:
    assert wording.catalogue_problems() == []
    for kind, (subject, body) in wording.TEXT_CODES.items():
        for code in (subject, body):
            assert HAN.search(i18n.text(code)) and not HAN.search(i18n.catalogues()[i18n.EN][code]), code


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_a_notice_worded_in_english_on_request(locale: str) -> None:
    """Contacts hold no language yet, so every notice is Chinese; the wording is ready for one that asks for English."""
    event = rectification(A, "raised", shortcoming_code="checklist:4.3", shortcoming_text="自查表 4.3 职业病危害因素检测结果公布: 得分 0 / 2")
    message = rules.rectification_message(event, "乡宁县示例水泥有限公司")
    assert message is not None
    [draft, _] = rules.drafts(message, rules.source_of(event), TEMPLATES.in_force("141029", date(2026, 3, 2)), locale)
    if locale == "en":
        assert draft.subject == "New rectification item: self-check item 4.3 lost points (due 2026-03-16)"
    else:
        assert draft.subject == "新的整改事项：自查表 4.3 职业病危害因素检测结果公布: 得分 0 / 2（期限 2026年3月16日）"
