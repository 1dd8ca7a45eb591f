"""Bulk intake, the spreadsheets: reading a county's employer list (附件6, .xlsx or .xls) into
reports, and writing the errors file and the empty 附件6 template.

Parsing and validation only: no network, no console (``services.assessment.entrypoints.cli``
does the I/O). Each row becomes a :class:`~services.assessment.adapters.report_files.ParsedRow`.

附件6 — the employer list with each employer's assessment summary
----------------------------------------------------------------

``.xlsx`` (read with openpyxl) or legacy ``.xls`` (xlrd 2.x). Only the **first sheet** is read.
**Row 1 is the header**; columns are found by their title (whitespace and a trailing ``*`` are
ignored), so their order may vary and extra columns are ignored. Every following row is one
employer; empty rows are skipped, and so is a row whose 序号 is ``示例`` (the template's example).

============== ==== ==========================================================================
column title   req. content
============== ==== ==========================================================================
序号                  running number; ignored (``示例`` marks the example row, which is skipped)
用人单位名称     yes  employer name
统一社会信用代码  yes  18 characters, GB 32100 check character (format the column as text)
所在地区代码     yes  county-level GB/T 2260 code, e.g. 141029
行业代码              GB/T 4754 codes, several separated by 、 or , (e.g. ``C3011、C3021``)
职工总数         yes  whole number ≥ 0
投产日期              date
评估日期         yes  date
评估方式         yes  ``自评`` or ``机构``
技术服务机构代码       the organisation's 统一社会信用代码; required when 评估方式 is 机构, empty otherwise
危害因素         yes  entries separated by ; or ；, each ``因素名称|接触人数|符合/不符合|检测日期``; the
                     检测日期 may be empty or left out; an optional 5th part ``严重``/``一般`` gives the
                     nature of a factor outside the catalogue. E.g.
                     ``矽尘|24|不符合|2023-05-10；噪声|40|符合|2023-05-10``
自查得分         yes  附件2 self-check score, 0–100
公示开始日期      yes  date
公示结束日期      yes  date
签字人           yes  legal representative or principal who signed
是否盖章         yes  ``是`` or ``否`` (a report without the seal is not accepted)
============== ==== ==========================================================================

Dates are real spreadsheet dates or text ``YYYY-MM-DD`` / ``YYYY/MM/DD``. A file without one of
the required columns is refused as a whole (:class:`LayoutError`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from services.assessment.adapters.report_files import LayoutError, ParsedRow, RowProblem, content_id, dotted
from services.assessment.domain.report_rules import report_problems
from shared import i18n
from shared.contracts import Report
from shared.dates import china_today
from shared.xlsx import append, csv_cell  # text cleaned, formula-like text written as text

EXAMPLE_MARK = "示例"
SHEET_SUFFIXES = (".xlsx", ".xls")
ERROR_COLUMN_CODES = ("xlsx.errors.column.row", "xlsx.column.credit_code", "xlsx.errors.column.field", "xlsx.errors.column.message")
ERROR_COLUMNS = tuple(i18n.text(code) for code in ERROR_COLUMN_CODES)  # 行号, 统一社会信用代码, 字段, 错误说明


@dataclass(frozen=True)
class Column:
    title: str  # the 附件6 column title: what the reader matches, Chinese in every language (an import format)
    required: bool
    help: str  # message code (xlsx catalogue) of what to write, shown in the template's 说明 sheet
    example: object = None


COLUMNS: tuple[Column, ...] = (
    Column("序号", False, "xlsx.template.help.serial", EXAMPLE_MARK),
    Column("用人单位名称", True, "xlsx.template.help.enterprise_name", "乡宁县示例水泥有限公司"),
    Column("统一社会信用代码", True, "xlsx.template.help.credit_code", "91141029MA0GRT8U3L"),
    Column("所在地区代码", True, "xlsx.template.help.region_code", "141029"),
    Column("行业代码", False, "xlsx.template.help.industry_codes", "C3011"),
    Column("职工总数", True, "xlsx.template.help.employees", 86),
    Column("投产日期", False, "xlsx.template.help.date", date(2016, 4, 1)),
    Column("评估日期", True, "xlsx.template.help.date", date(2023, 6, 1)),
    Column("评估方式", True, "xlsx.template.help.assessor", "自评"),
    Column("技术服务机构代码", False, "xlsx.template.help.org_id", None),
    Column("危害因素", True, "xlsx.template.help.hazards", "矽尘|24|不符合|2023-05-10；噪声|40|符合|2023-05-10"),
    Column("自查得分", True, "xlsx.template.help.score", 82.5),
    Column("公示开始日期", True, "xlsx.template.help.date", date(2023, 6, 2)),
    Column("公示结束日期", True, "xlsx.template.help.date", date(2023, 6, 8)),
    Column("签字人", True, "xlsx.template.help.signed_by", "张三"),
    Column("是否盖章", True, "xlsx.template.help.sealed", "是"),
)
# the values the help texts name (the words a cell must hold, Chinese in every language)
_HELP_PARAMS = {"mark": EXAMPLE_MARK, "self_mark": "自评", "org_mark": "机构"}
TITLES = tuple(c.title for c in COLUMNS)
REQUIRED_TITLES = tuple(c.title for c in COLUMNS if c.required)
DATE_HELP = "应为日期（YYYY-MM-DD 或 YYYY/MM/DD，或设为日期格式的单元格）"


# --------------------------------------------------------------------------- field → 附件6 column

_FIELD_COLUMNS = {
    "enterprise.name": "用人单位名称",
    "enterprise.credit_code": "统一社会信用代码",
    "enterprise.region_code": "所在地区代码",
    "enterprise.industry_codes": "行业代码",
    "enterprise.employees": "职工总数",
    "enterprise.production_started_on": "投产日期",
    "assessor.type": "评估方式",
    "assessor": "技术服务机构代码",
    "assessed_on": "评估日期",
    "hazards": "危害因素",
    "self_check": "自查得分",
    "publicity.start": "公示开始日期",
    "publicity.end": "公示结束日期",
    "publicity": "公示结束日期",
    "signed_by": "签字人",
    "sealed": "是否盖章",
}
_HAZARD_PARTS = {"factor": "因素名称", "exposed": "接触人数", "compliant": "符合/不符合", "tested_on": "检测日期", "nature": "严重/一般"}
_PHRASES = (  # the contract's words → 附件6 terms, for messages shown against a spreadsheet row
    ("Value error, ", ""),
    ("Field required", "必填，不能为空"),
    ("enterprise.employees", "职工总数"),
    ("assessed_on", "评估日期"),
    (": the result is posted after the assessment", "（公示应在评估之后）"),
    (" is in the future", " 晚于今天"),
    (" is after ", " 晚于"),
    (" is before ", " 早于"),
    (" exceeds ", " 超过"),
    (" check character is ", " 校验码为 "),
    (" but GB 32100 gives ", "，按 GB 32100 应为 "),
    (" for the first 17 characters", "（由前 17 位算出）"),
)
_INDEX = re.compile(r"\[\d+\]")


def sheet_problem(field_path: str, message: str, hazards: list[Any] | None = None) -> RowProblem:
    """A problem the contract (or the service) names by field, restated against the 附件6 column."""
    for english, chinese in _PHRASES:
        message = message.replace(english, chinese)
    hazard = re.match(r"hazards\[(\d+)\]\.?(\w*)", field_path)
    if hazard:
        i, part = int(hazard.group(1)), hazard.group(2)
        entry = hazards[i] if hazards and i < len(hazards) else None
        name = entry.get("factor") if isinstance(entry, Mapping) else getattr(entry, "factor", None)
        where = f"第{i + 1}项" + (f"（{name}）" if name else "") + (f"{_HAZARD_PARTS.get(part, part)}" if part else "")
        return RowProblem("危害因素", f"{where}：{message}")
    path = _INDEX.sub("", field_path)
    while path:
        if path in _FIELD_COLUMNS:
            return RowProblem(_FIELD_COLUMNS[path], message)
        path = path.rpartition(".")[0]
    return RowProblem(field_path, message)


# --------------------------------------------------------------------------- reading spreadsheets


def _plain(value: object) -> object:
    """A cell as None, str (stripped, never empty), int, float, bool or date."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _xlsx_rows(path: Path) -> Iterator[list[object]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield [_plain(v) for v in values]
    finally:
        book.close()


def _xls_rows(path: Path) -> Iterator[list[object]]:
    import xlrd

    book = xlrd.open_workbook(str(path), on_demand=True)
    try:
        sheet = book.sheet_by_index(0)
        for r in range(sheet.nrows):
            row: list[object] = []
            for cell in sheet.row(r):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate_as_datetime(cell.value, book.datemode).date())
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    row.append(bool(cell.value))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    row.append(None)
                else:
                    row.append(_plain(cell.value))
            yield row
    finally:
        book.release_resources()


def sheet_records(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    """(spreadsheet row number, {column title: cell}) for every non-empty row after the header."""
    suffix = path.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise LayoutError(f"{path.name}: 附件6 应为 .xlsx 或 .xls 文件")
    try:
        rows = _xlsx_rows(path) if suffix == ".xlsx" else _xls_rows(path)
        header = next(rows, None)
    except Exception as error:  # noqa: BLE001 - a broken or mislabelled file is refused as a whole
        raise LayoutError(f"{path.name}: 无法读取（{type(error).__name__}: {error}）") from error
    if not header:
        raise LayoutError(f"{path.name}: 第一个工作表为空，第 1 行应为表头")
    positions: dict[str, int] = {}
    for i, cell in enumerate(header):
        title = re.sub(r"\s+", "", str(cell)).strip("*＊") if cell is not None else ""
        if title in TITLES:
            if title in positions:
                raise LayoutError(f"{path.name}: 表头“{title}”出现了两次")
            positions[title] = i
    missing = [t for t in REQUIRED_TITLES if t not in positions]
    if missing:
        raise LayoutError(f"{path.name}: 表头（第 1 行）缺少必需的列：{'、'.join(missing)}")
    for number, values in enumerate(rows, start=2):
        record = {t: values[i] if i < len(values) else None for t, i in positions.items()}
        if all(v is None for v in record.values()) or record.get("序号") == EXAMPLE_MARK:
            continue
        yield number, record


def parse_employer_sheet(path: Path, today: date | None = None) -> list[ParsedRow]:
    return [parse_employer_row(number, record, today) for number, record in sheet_records(path)]


# --------------------------------------------------------------------------- one 附件6 row


class _CellError(ValueError):
    pass


def _text(value: object) -> str:
    return str(value)


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not re.fullmatch(r"\d+", str(value)):
        raise _CellError(f"“{value}”应为非负整数")
    return int(value)


def _score(value: object) -> float:
    try:
        score = float(value) if not isinstance(value, (bool, date)) else None  # type: ignore[arg-type]
    except ValueError:
        score = None
    if score is None or not 0 <= score <= 100:
        raise _CellError(f"“{value}”应为 0–100 的数字")
    return score


def _date(value: object) -> date:
    if isinstance(value, date):
        return value
    match = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", str(value))
    try:
        if match:
            return date(*(int(g) for g in match.groups()))
    except ValueError:
        pass
    raise _CellError(f"“{value}”{DATE_HELP}")


def _assessor_type(value: object) -> str:
    kinds = {"自评": "self", "机构": "organisation"}
    if value not in kinds:
        raise _CellError(f"“{value}”应为“自评”或“机构”")
    return kinds[value]  # type: ignore[index]


def _sealed(value: object) -> bool:
    if value in ("是", True):
        return True
    if value in ("否", False):
        raise _CellError("是否盖章为“否”：未盖章的报告不予受理")
    raise _CellError(f"“{value}”应为“是”或“否”")


def _industry_codes(value: object) -> list[str]:
    return [code for code in re.split(r"[、,，;；\s]+", str(value)) if code]


def _hazards(value: object, problems: list[RowProblem]) -> list[dict[str, Any]]:
    hazards: list[dict[str, Any]] = []
    entries = [e.strip() for e in re.split(r"[;；\n]+", str(value)) if e.strip()]
    for n, entry in enumerate(entries, start=1):
        parts = [p.strip() for p in re.split(r"[|｜]", entry)]
        where = f"第{n}项“{entry}”"

        def bad(message: str) -> None:
            problems.append(RowProblem("危害因素", f"{where}：{message}"))

        if not 3 <= len(parts) <= 5:
            bad("应为“因素名称|接触人数|符合/不符合|检测日期”，目录外因素可加“|严重”或“|一般”")
            continue
        before = len(problems)
        hazard: dict[str, Any] = {"factor": parts[0]}
        if not parts[0]:
            bad("因素名称为空")
        try:
            hazard["exposed"] = _integer(parts[1])
        except _CellError as error:
            bad(f"接触人数{error}")
        if parts[2] not in ("符合", "不符合"):
            bad(f"接触水平“{parts[2]}”应为“符合”或“不符合”")
        hazard["compliant"] = parts[2] == "符合"
        if len(parts) > 3 and parts[3]:
            try:
                hazard["tested_on"] = _date(parts[3])
            except _CellError as error:
                bad(f"检测日期{error}")
        if len(parts) > 4 and parts[4]:
            if parts[4] not in ("严重", "一般"):
                bad(f"性质“{parts[4]}”应为“严重”或“一般”")
            hazard["nature"] = parts[4]
        if len(problems) == before:
            hazards.append(hazard)
    return hazards


def parse_employer_row(row_number: int, record: Mapping[str, object], today: date | None = None) -> ParsedRow:
    """One 附件6 row → a report with its deterministic submission id, or the problems, by column."""
    problems: list[RowProblem] = []
    bad_columns: set[str] = set()

    def cell(title: str, convert: Any, required: bool = True) -> Any:
        value = record.get(title)
        if value is None:
            if required:
                problems.append(RowProblem(title, "必填，不能为空"))
                bad_columns.add(title)
            return None
        try:
            return convert(value)
        except _CellError as error:
            problems.append(RowProblem(title, str(error)))
            bad_columns.add(title)
            return None

    hazard_problems: list[RowProblem] = []
    hazards = cell("危害因素", lambda v: _hazards(v, hazard_problems))
    if hazard_problems:
        problems.extend(hazard_problems)
        bad_columns.add("危害因素")
        hazards = None
    assessor: dict[str, Any] = {"type": cell("评估方式", _assessor_type)}
    org_id = cell("技术服务机构代码", _text, required=False)
    if assessor["type"] == "organisation" and org_id is None:
        problems.append(RowProblem("技术服务机构代码", "评估方式为“机构”时必填"))
        bad_columns.add("技术服务机构代码")
    elif assessor["type"] == "self" and org_id is not None:
        problems.append(RowProblem("技术服务机构代码", "评估方式为“自评”时应留空"))
        bad_columns.add("技术服务机构代码")
    elif org_id is not None:
        assessor["org_id"] = org_id
    data: dict[str, Any] = {
        "enterprise": {
            "name": cell("用人单位名称", _text),
            "credit_code": cell("统一社会信用代码", _text),
            "region_code": cell("所在地区代码", _text),
            "industry_codes": cell("行业代码", _industry_codes, required=False) or [],
            "employees": cell("职工总数", _integer),
            "production_started_on": cell("投产日期", _date, required=False),
        },
        "assessor": assessor,
        "assessed_on": cell("评估日期", _date),
        "hazards": hazards,
        "self_check": {"score": cell("自查得分", _score)},
        "publicity": {"start": cell("公示开始日期", _date), "end": cell("公示结束日期", _date)},
        "signed_by": cell("签字人", _text),
        "sealed": cell("是否盖章", _sealed),
    }
    credit_code = data["enterprise"]["credit_code"]
    raw_hazards = hazards or []
    report: Report | None = None
    try:
        report = Report.model_validate(_without_none(data))
    except ValidationError as error:
        for item in error.errors():
            problem = sheet_problem(dotted(item["loc"]), item["msg"], raw_hazards)
            if problem.column not in bad_columns:
                problems.append(problem)
    if report is not None:
        problems += [sheet_problem(p.field, p.message, raw_hazards) for p in report_problems(report, today or china_today())]
    if problems or report is None:
        return ParsedRow(row_number, None, problems, credit_code)
    return ParsedRow(row_number, report.model_copy(update={"submission_id": content_id(report)}), [], credit_code)


def _without_none(value: Any) -> Any:
    """Drop keys whose cell was empty or unreadable, so the contract reports only what is left."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


# --------------------------------------------------------------------------- writing spreadsheets


def write_errors(path: Path, lines: list[tuple[str, str, str, str]], locale: str = i18n.ZH) -> None:
    """One line per problem; written even when empty, so an old list never passes for this run's. The titles
    in ``locale`` (a person reads the file; nothing reads it back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    titles = [i18n.text(code, locale=locale) for code in ERROR_COLUMN_CODES]
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8-sig") as out:  # BOM: Excel opens it as UTF-8
            writer = csv.writer(out)
            writer.writerow(titles)
            writer.writerows([csv_cell(value) for value in line] for line in lines)
        return
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(i18n.text("xlsx.errors.sheet", locale=locale))
    append(sheet, titles)
    for label, credit_code, column, message in lines:
        append(sheet, [int(label) if label.isdigit() else label, credit_code, column, message])
    book.save(path)


def write_template(path: Path, locale: str = i18n.ZH) -> None:
    """The empty 附件6: the header row (the reader's column titles, Chinese in every language), one example
    row, and the sheet 说明 (what each column holds, in ``locale``)."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = i18n.text("xlsx.template.sheet", locale=locale)
    append(sheet, list(TITLES))
    append(sheet, [c.example for c in COLUMNS])
    for i, column in enumerate(COLUMNS, start=1):
        header = sheet.cell(row=1, column=i)
        header.font = Font(bold=True, color=None if column.required else "808080")
        sheet.column_dimensions[header.column_letter].width = min(48, 2 + max(_width(column.title), _width(column.example)))
        for row in range(2, 1002):  # dates as dates, codes as text (an 18-digit code must not become a number)
            if isinstance(column.example, date):
                sheet.cell(row=row, column=i).number_format = "yyyy-mm-dd"
            elif column.title in ("统一社会信用代码", "所在地区代码", "行业代码", "技术服务机构代码"):
                sheet.cell(row=row, column=i).number_format = "@"
    sheet.freeze_panes = "A2"
    notes = book.create_sheet(i18n.text("xlsx.common.notes_sheet", locale=locale))
    append(notes, [i18n.text(code, locale=locale) for code in ("xlsx.template.notes.column", "xlsx.template.notes.required",
                                                               "xlsx.template.notes.help")])
    for column in COLUMNS:
        append(notes, [column.title, i18n.text("xlsx.value.yes", locale=locale) if column.required else "",
                       i18n.text(column.help, _HELP_PARAMS, locale)])
    append(notes, [])
    append(notes, [i18n.text("xlsx.template.note.layout", _HELP_PARAMS, locale)])
    append(notes, [i18n.text("xlsx.template.note.dates", locale=locale)])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["C"].width = 90
    book.save(path)


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
