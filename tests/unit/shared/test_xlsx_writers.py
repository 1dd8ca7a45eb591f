"""Class 7: stored text never breaks an export. Every .xlsx writer of the four services writes a name
with a control character (the character replaced) and a name starting with ``=HYPERLINK(`` (as text,
never a live formula); the workbook opens and reads back as text."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from services.assessment.adapters.spreadsheets import write_errors
from services.penalty.adapters.xlsx import review_workbook
from services.registry.adapters.orm import EnterpriseRecord
from services.registry.adapters.rules import load_region_tree
from services.registry.adapters.xlsx import archive_workbook
from services.sampling.adapters.xlsx import publication_xlsx
from shared.xlsx import cell, clean_text

CONTROL = "某\x01矿业有限公司"
FORMULA = '=HYPERLINK("http://evil.example","点击")'
CODE = "91141029MA0GRT8U3L"


def texts(content: bytes | Path) -> list[tuple[Any, str]]:
    """Every non-empty cell as (value, data type), every sheet."""
    book = openpyxl.load_workbook(content if isinstance(content, Path) else io.BytesIO(content))
    return [(c.value, c.data_type) for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]


def assert_safe(found: list[tuple[Any, str]]) -> None:
    assert ("某\ufffd矿业有限公司", "s") in found, "the control character is replaced, the name kept"
    assert (FORMULA, "s") in found, "a formula-like name is a text cell"
    assert not [value for value, kind in found if kind == "f"], "no formula anywhere"


@pytest.mark.parametrize("name", [CONTROL, FORMULA])
def test_the_helpers_clean_and_neutralise_text(name: str) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("x")
    written = cell(sheet, name)
    assert clean_text("a\x01b\x1fc") == "a\ufffdb\ufffdc"
    assert (getattr(written, "data_type", "s") == "s")


def test_the_registry_archive_export() -> None:
    records = [
        EnterpriseRecord(credit_code=CODE, name=name, region_code="141029", industry_codes=["C3011"], employees=10, category="乙",
                         hazard_grade="Ⅱ", management_grade="B", score=80.0, assessed_on=date(2023, 6, 1), archive_version=1)
        for name in (CONTROL, FORMULA)
    ]
    content, counts = archive_workbook(records, load_region_tree(), "141029", datetime(2024, 5, 1, 10, tzinfo=UTC))
    assert counts["total"] == 2
    assert_safe(texts(content))


def test_the_sampling_publication_export() -> None:
    plan = {"id": "p1", "region_code": "141024", "period": "2026", "parent_plan_id": None,
            "ratios": {"甲": "0.03", "乙": "0.05", "丙": "0.1"}, "minimums": {"甲": 0, "乙": 0, "丙": 0}, "inspectors_per_task": 2,
            "jia_non_site": True, "full_coverage_industries": [], "exclusions": [{"credit_code": CODE, "reason": FORMULA}],
            "defaults_from": {"jurisdiction": "CN", "version": "1"}}
    target = {"task_id": "t1", "credit_code": CODE, "region_code": "141024", "category": "丙", "selection": "random", "on_site": True,
              "inspectors": [{"id": "i1", "name": CONTROL}]}
    doc = {"plan": plan, "commitment": "c", "algorithm_version": "ohs-draw-v1", "status": "drawn",
           "draw": {"draw_id": "d", "drawn_at": "2026-01-01T00:00:00+00:00", "seed": "s", "pool_version": 1, "pool_hash": "h",
                    "pool": [{"credit_code": CODE, "category": "丙", "full_coverage": False}],
                    "targets": [{**target, "enterprise_name": CONTROL}, {**target, "enterprise_name": FORMULA}]},
           "results": [{"task_id": "t1", "credit_code": CODE, "outcome": "not_inspected", "inspected_on": None, "item_codes": [],
                        "reason": FORMULA, "case_ids": []}]}
    assert_safe(texts(publication_xlsx(doc)))


def test_the_penalty_review_export() -> None:
    def case(detail: str) -> dict[str, Any]:
        return {"case_code": None, "id": "c1", "credit_code": CODE, "region_code": "141029", "item_code": "70-4", "found_on": "2024-03-01",
                "harm": "minor", "major": False, "procedure": "three_step", "status": "closed", "decision": "no_penalty",
                "deadline": None, "proposed_fine_range": None, "fine_yuan": None, "departure_reason": detail, "flags": [],
                "timeline": [{"seq": 1, "step": "education", "status": "educated", "on": "2024-03-02", "by": detail,
                              "deadline": None, "detail": detail}]}

    assert_safe(texts(review_workbook([case(CONTROL), case(FORMULA)])))


def test_the_assessment_errors_file(tmp_path: Path) -> None:
    path = tmp_path / "errors.xlsx"
    write_errors(path, [("2", CODE, "用人单位名称", CONTROL), ("3", CODE, "用人单位名称", FORMULA)])
    assert_safe(texts(path))


def test_the_assessment_errors_file_as_csv(tmp_path: Path) -> None:
    """A CSV has no text type: formula-like text stands behind a single quote, control characters are replaced."""
    import csv

    path = tmp_path / "errors.csv"
    write_errors(path, [("2", CODE, "用人单位名称", CONTROL), ("3", CODE, "用人单位名称", FORMULA)])
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    messages = [row[3] for row in rows[1:]]
    assert messages == [clean_text(CONTROL), "'" + FORMULA]
    assert "\x01" not in path.read_text(encoding="utf-8-sig")
