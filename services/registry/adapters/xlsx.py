"""The region's archive (分类监督执法档案) as an .xlsx workbook: the first sheet in the 附件6 layout
(header in row 1, one row per employer) plus the results, and the sheet 说明; the agency's figures
(统计指标) with their definitions.

Every word is a code of the ``xlsx`` catalogue, in Chinese unless ``locale`` asks for English — except
the 附件6 column titles of the archive, which are the bulk reader's (an import format: the archive reads
back as 附件6) and stay Chinese in every language. Every text goes through ``shared.xlsx``: a name with a
control character is written (the character replaced), a name starting with ``=`` is written as text,
never as a formula.
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
from services.registry.domain.figures import FIGURES, definitions, value_of
from services.registry.domain.figures import title as figure_title
from services.registry.domain.regions import RegionTree
from shared import i18n
from shared.contracts import CATEGORIES
from shared.xlsx import append, china_time, clean_text

# The archive export: 附件6 column titles (services/assessment/adapters/spreadsheets.py) where the archive holds
# the value, then the archive's results. Row 1 is the header so the bulk reader matches the columns: these
# titles are written in Chinese whatever the language of the workbook.
ARCHIVE_BULK_CODES = (
    "xlsx.archive.column.serial", "xlsx.archive.column.enterprise_name", "xlsx.archive.column.credit_code",
    "xlsx.archive.column.region_code", "xlsx.archive.column.industry_codes", "xlsx.archive.column.employees",
    "xlsx.archive.column.assessed_on", "xlsx.archive.column.score",
)
ARCHIVE_RESULT_CODES = (
    "xlsx.archive.column.hazard_grade", "xlsx.archive.column.management_grade", "xlsx.archive.column.category",
    "xlsx.archive.column.archive_version", "xlsx.archive.column.agency",
)
ARCHIVE_BULK_TITLES = tuple(i18n.text(code, locale=i18n.ZH) for code in ARCHIVE_BULK_CODES)
ARCHIVE_RESULT_TITLES = tuple(i18n.text(code, locale=i18n.ZH) for code in ARCHIVE_RESULT_CODES)
ARCHIVE_TITLES = ARCHIVE_BULK_TITLES + ARCHIVE_RESULT_TITLES
NOTES_SHEET = i18n.text("xlsx.common.notes_sheet", locale=i18n.ZH)
_ARCHIVE_WIDTHS = {"xlsx.archive.column.enterprise_name": 36, "xlsx.archive.column.credit_code": 22,
                   "xlsx.archive.column.agency": 34, "xlsx.archive.column.industry_codes": 16}


def _width(title: str) -> int:
    """A column wide enough for its title (a Chinese character is two columns wide)."""
    return max(10, sum(2 if ord(ch) > 0x2E7F else 1 for ch in title) + 2)


def archive_workbook(
    records: Iterable[EnterpriseRecord], tree: RegionTree, region_code: str, exported_at: datetime, locale: str = i18n.ZH
) -> tuple[bytes, dict[str, int]]:
    """``records`` (in the order to list them) as the archive workbook, and the counts per category.
    ``exported_at`` is shown as it is given (China time)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(i18n.text("xlsx.archive.sheet", locale=locale))
    titles = ARCHIVE_BULK_TITLES + tuple(i18n.text(code, locale=locale) for code in ARCHIVE_RESULT_CODES)
    for i, (code, title) in enumerate(zip(ARCHIVE_BULK_CODES + ARCHIVE_RESULT_CODES, titles, strict=True), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = _ARCHIVE_WIDTHS.get(code, _width(title))
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

    append(sheet, [cell(title, font=bold) for title in titles])
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

    notes = book.create_sheet(i18n.text("xlsx.common.notes_sheet", locale=locale))
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 80
    total = sum(counts.values())
    lines: list[tuple[str, Any]] = [
        (i18n.text("xlsx.common.exported_at", locale=locale), china_time(exported_at, locale)),
        (i18n.text("xlsx.common.region", locale=locale), f"{region_code} {' / '.join(tree.path(region_code))}"),
        (i18n.text("xlsx.archive.note.employers", locale=locale), total),
        *((i18n.text("xlsx.archive.note.category", {"category": c}, locale), counts[c]) for c in CATEGORIES),
        (i18n.text("xlsx.archive.note.columns", locale=locale),
         i18n.text("xlsx.archive.note.columns_text", {"first": ARCHIVE_BULK_TITLES[0], "last": ARCHIVE_BULK_TITLES[-1]}, locale)),
    ]
    if provisional:
        lines.append((i18n.text("xlsx.archive.note.agency", locale=locale), i18n.text("xlsx.archive.note.agency_provisional", locale=locale)))
    for key, value in lines:
        append(notes, [cell(key, font=bold), value])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), {**counts, "total": total}


# --------------------------------------------------------------------------- the agency's figures (统计指标)

FIGURES_SHEET = i18n.text("xlsx.figures.sheet", locale=i18n.ZH)
_RATES = ("classification_coverage", "risk_resolution_rate")
def figures_workbook(result: dict[str, Any], exported_at: datetime, locale: str = i18n.ZH) -> bytes:
    """The figures (``service_layer.figures.figures``) as an .xlsx: one row per county, then 合计 (header in
    row 1; the rates as percentages, empty when undefined), and the sheet 说明 with the period and what
    each figure counts. ``exported_at`` is shown as it is given (China time)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(i18n.text("xlsx.figures.sheet", locale=locale))
    titles = (i18n.text("xlsx.figures.column.region_code", locale=locale), i18n.text("xlsx.figures.column.region_name", locale=locale),
              *(figure_title(key, locale) for key, _, _ in FIGURES))
    for i, title in enumerate(titles, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = _width(title)
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
    append(sheet, line({**result["totals"], "region_name": i18n.text("xlsx.common.total", locale=locale)}, bold))

    notes = book.create_sheet(i18n.text("xlsx.common.notes_sheet", locale=locale))
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 100
    period = result["period"]

    defined = definitions(locale)

    def definition(key: str, fallback: str) -> str:
        return defined.get(key, fallback)

    lines: list[tuple[str, Any]] = [
        (i18n.text("xlsx.common.exported_at", locale=locale), china_time(exported_at, locale)),
        (i18n.text("xlsx.common.region", locale=locale), f"{result['region_code']} {result.get('region_name') or ''}".strip()),
        (i18n.text("xlsx.figures.note.period", locale=locale),
         i18n.text("xlsx.figures.note.period_value", {"start": period["from"], "end": period["to"]}, locale)),
        *((figure_title(key, locale), definition(key, text)) for key, _, text in FIGURES),
        (i18n.text("xlsx.figures.note.period_rule", locale=locale), defined["period"]),
        (i18n.text("xlsx.figures.note.region_rule", locale=locale), defined["region"]),
    ]
    for key, value in lines:
        append(notes, [cell(key, font=bold), value])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
