"""The region's archive (分类监督执法档案) as an .xlsx workbook: the first sheet in the 附件6 layout
(header in row 1, one row per employer) plus the results, and the sheet 说明.

Every text goes through ``shared.xlsx``: a name with a control character is written (the character
replaced), a name starting with ``=`` is written as text, never as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.registry.adapters.orm import EnterpriseRecord
from services.registry.domain.figures import FIGURES, value_of
from services.registry.domain.regions import RegionTree
from shared.contracts import CATEGORIES
from shared.xlsx import append, clean_text

# The archive export: 附件6 column titles (services/assessment/bulk.py) where the archive holds the
# value, then the archive's results. Row 1 is the header so the bulk reader matches the columns.
ARCHIVE_BULK_TITLES = ("序号", "用人单位名称", "统一社会信用代码", "所在地区代码", "行业代码", "职工总数", "评估日期", "自查得分")
ARCHIVE_RESULT_TITLES = ("职业病危害风险等级", "职业卫生管理状况等级", "综合风险类别", "档案版本", "受理机构")
ARCHIVE_TITLES = ARCHIVE_BULK_TITLES + ARCHIVE_RESULT_TITLES
NOTES_SHEET = "说明"


def archive_workbook(
    records: Iterable[EnterpriseRecord], tree: RegionTree, region_code: str, exported_at: datetime
) -> tuple[bytes, dict[str, int]]:
    """``records`` (in the order to list them) as the archive workbook, and the counts per category.
    ``exported_at`` is shown as it is given (China time)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("分类监督执法档案")
    widths = {"用人单位名称": 36, "统一社会信用代码": 22, "受理机构": 34, "行业代码": 16}
    for i, title in enumerate(ARCHIVE_TITLES, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = widths.get(title, max(10, 2 * len(title) + 2))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: Any, number_format: str | None = None, font: Font | None = None) -> WriteOnlyCell:
        c = WriteOnlyCell(sheet, value=clean_text(value) if isinstance(value, str) else value)
        if isinstance(value, str):
            c.data_type = "s"  # text, whatever it looks like
        if number_format:
            c.number_format = number_format
        if font:
            c.font = font
        return c

    append(sheet, [cell(title, font=bold) for title in ARCHIVE_TITLES])
    counts = {c: 0 for c in CATEGORIES}
    provisional = False
    for number, record in enumerate(records, start=1):
        counts[record.category] = counts.get(record.category, 0) + 1
        agency = ""
        if record.region_code in tree and tree.level(record.region_code) == "county":
            agency = tree.receiving_agency(record.region_code).name
            provisional = provisional or tree.agency_is_provisional(record.region_code)
        append(sheet, [
            number,
            record.name,
            cell(record.credit_code, "@"),
            cell(record.region_code, "@"),
            "、".join(record.industry_codes),
            record.employees,
            cell(record.assessed_on, "yyyy-mm-dd"),
            record.score,
            record.hazard_grade,
            record.management_grade,
            record.category,
            record.archive_version,
            agency,
        ])

    notes = book.create_sheet(NOTES_SHEET)
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 80
    total = sum(counts.values())
    lines: list[tuple[str, Any]] = [
        ("导出时间", exported_at.strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"),
        ("地区", f"{region_code} {' / '.join(tree.path(region_code))}"),
        ("用人单位数", total),
        *((f"{c}类", counts[c]) for c in CATEGORIES),
        ("说明", "第 1 行为表头；“序号”至“自查得分”各列与附件6（批量导入）的列名一致，其余为档案结果列，导入时忽略。"),
    ]
    if provisional:
        lines.append(("受理机构", "受理机构名称为暂定名称（provisional），以各地公布的为准。"))
    for key, value in lines:
        append(notes, [cell(key, font=bold), value])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), {**counts, "total": total}


# --------------------------------------------------------------------------- the agency's figures (统计指标)

FIGURES_SHEET = "统计指标"
_RATES = ("classification_coverage", "risk_resolution_rate")


def figures_workbook(result: dict[str, Any], exported_at: datetime) -> bytes:
    """The figures (``service_layer.figures.figures``) as an .xlsx: one row per county, then 合计 (header in
    row 1; the rates as percentages, empty when undefined), and the sheet 说明 with the period and what
    each figure counts. ``exported_at`` is shown as it is given (China time)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(FIGURES_SHEET)
    titles = ("地区代码", "地区", *(title for _, title, _ in FIGURES))
    for i, title in enumerate(titles, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(10, 2 * len(title) + 2)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: Any, number_format: str | None = None, font: Font | None = None) -> WriteOnlyCell:
        c = WriteOnlyCell(sheet, value=clean_text(value) if isinstance(value, str) else value)
        if isinstance(value, str):
            c.data_type = "s"
        if number_format:
            c.number_format = number_format
        if font:
            c.font = font
        return c

    def line(row: dict[str, Any], font: Font | None = None) -> list[Any]:
        values = [cell(row["region_code"], "@", font), cell(row["region_name"] or "", font=font)]
        for key, _, _ in FIGURES:
            value = value_of(row, key)
            values.append(cell(value, "0.00%" if key in _RATES else None, font))
        return values

    append(sheet, [cell(title, font=bold) for title in titles])
    for row in result["rows"]:
        append(sheet, line(row))
    append(sheet, line({**result["totals"], "region_name": "合计"}, bold))

    notes = book.create_sheet(NOTES_SHEET)
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 100
    period = result["period"]
    lines: list[tuple[str, Any]] = [
        ("导出时间", exported_at.strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"),
        ("地区", f"{result['region_code']} {result.get('region_name') or ''}".strip()),
        ("统计期间", f"{period['from']} 至 {period['to']}（含首尾两日，北京时间）"),
        *((f"{title} ({key})", result["definitions"].get(key, "")) for key, title, _ in FIGURES),
        ("period", result["definitions"].get("period", "")),
        ("region", result["definitions"].get("region", "")),
    ]
    for key, value in lines:
        append(notes, [cell(key, font=bold), value])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
