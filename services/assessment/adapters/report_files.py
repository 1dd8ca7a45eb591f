"""Bulk intake, the rows: what every input row becomes, its deterministic submission id, and
reports given as JSON.

Pure parsing and validation: no network, no console (``services.assessment.entrypoints.cli``
does the I/O). Every input row becomes a :class:`ParsedRow` holding either a
:class:`~shared.contracts.Report` ready to submit, or the problems that stop it, one per problem,
named by column (附件6, see :mod:`services.assessment.adapters.spreadsheets`) or by field (JSON).

JSON input: a ``.jsonl`` file (one report object per line, as ``POST /reports`` takes it), a
single ``.json`` file, or a folder of ``*.json`` files (one report each).

Submission ids: a report without one gets ``uuid5`` over its normalised content (the validated
report without ``submission_id``, as canonical JSON), so the same row always gets the same id:
re-running a file resubmits identical reports, which the service acknowledges as already
accepted instead of accepting twice. Two identical rows in one input are reported as duplicates.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from services.assessment.domain.report_rules import report_problems
from shared.contracts import Report
from shared.dates import china_today

# Namespace of the deterministic submission ids: uuid5(NAMESPACE_URL, "urn:ohs:assessment:bulk-intake").
BULK_NAMESPACE = uuid.UUID("2f092dc5-527b-5889-ae93-e597d3981eca")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


class LayoutError(Exception):
    """The input as a whole cannot be read: unknown file type, no header, required columns missing."""


@dataclass(frozen=True)
class RowProblem:
    column: str  # 附件6 column title (spreadsheet) or dotted field path (JSON)
    message: str


@dataclass
class ParsedRow:
    row_number: int  # spreadsheet row (header = 1), JSON line, or position of the file in the folder
    report: Report | None
    problems: list[RowProblem] = field(default_factory=list)
    credit_code: str | None = None
    source: str | None = None  # the file name, for a folder of *.json

    @property
    def label(self) -> str:
        return self.source or str(self.row_number)

    @property
    def ok(self) -> bool:
        return self.report is not None and not self.problems


# --------------------------------------------------------------------------- ids


def canonical_content(report: Report) -> str:
    body = report.model_dump(mode="json", exclude={"submission_id"})
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_id(report: Report) -> uuid.UUID:
    """The deterministic submission id: uuid5 over the report's normalised content."""
    return uuid.uuid5(BULK_NAMESPACE, canonical_content(report))


def mark_duplicates(rows: list[ParsedRow]) -> None:
    """A second row with the same submission id is not submitted: an exact duplicate, or a conflict."""
    first: dict[uuid.UUID, ParsedRow] = {}
    for row in rows:
        if not row.ok:
            continue
        assert row.report is not None
        earlier = first.setdefault(row.report.submission_id, row)
        if earlier is row:
            continue
        assert earlier.report is not None
        same = canonical_content(earlier.report) == canonical_content(row.report)
        where = f"第 {earlier.label} 行" if earlier.source is None else earlier.label
        message = (
            f"与{where}内容完全相同（重复行），不重复提交"
            if same
            else f"submission_id {row.report.submission_id} 与{where}相同但内容不同"
        )
        row.problems.append(RowProblem("(整行)" if same else "submission_id", message))
        row.report = None


# --------------------------------------------------------------------------- field paths


def dotted(loc: Iterable[object]) -> str:
    """('hazards', 0, 'exposed') → 'hazards[0].exposed'."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else ("." if path else "") + str(part)
    return path or "(整行)"


# --------------------------------------------------------------------------- JSON reports


def parse_report_data(row_number: int, data: object, today: date | None = None, source: str | None = None) -> ParsedRow:
    """One report dict (as ``POST /reports`` takes it); without ``submission_id`` it gets the content id."""
    if not isinstance(data, dict):
        return ParsedRow(row_number, None, [RowProblem("(整行)", "应为一个 JSON 对象（一份报告）")], source=source)
    enterprise = data.get("enterprise")
    credit_code = enterprise.get("credit_code") if isinstance(enterprise, dict) else None
    credit_code = credit_code.strip() if isinstance(credit_code, str) else None
    try:
        report = Report.model_validate(data)
    except ValidationError as error:
        problems = [RowProblem(dotted(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in error.errors()]
        return ParsedRow(row_number, None, problems, credit_code, source)
    problems = [RowProblem(p.field, p.message) for p in report_problems(report, today or china_today())]
    if problems:
        return ParsedRow(row_number, None, problems, credit_code, source)
    if data.get("submission_id") is None:
        report = report.model_copy(update={"submission_id": content_id(report)})
    return ParsedRow(row_number, report, [], credit_code, source)


def _decode(text: str) -> tuple[object, RowProblem | None]:
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, RowProblem("(JSON)", f"不是有效的 JSON：{error.msg}（第 {error.colno} 列）")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise LayoutError(f"{path.name}: 无法读取（应为 UTF-8 文本；{type(error).__name__}: {error}）") from error


def parse_report_lines(lines: Iterable[str], today: date | None = None) -> list[ParsedRow]:
    rows: list[ParsedRow] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        data, problem = _decode(line)
        rows.append(ParsedRow(number, None, [problem]) if problem else parse_report_data(number, data, today))
    return rows


def parse_reports(path: Path, today: date | None = None) -> list[ParsedRow]:
    """A .jsonl file (one report per line), a .json file (one report) or a folder of *.json files."""
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise LayoutError(f"{path}: 文件夹中没有 *.json 文件")
        rows = []
        for number, file in enumerate(files, start=1):
            try:
                data, problem = _decode(_read_text(file))
            except LayoutError as error:
                data, problem = None, RowProblem("(文件)", str(error))
            rows.append(ParsedRow(number, None, [problem], source=file.name) if problem else parse_report_data(number, data, today, file.name))
        return rows
    suffix = path.suffix.lower()
    if suffix not in JSON_SUFFIXES:
        raise LayoutError(f"{path.name}: 应为 .jsonl 文件或 *.json 文件夹")
    text = _read_text(path)
    if suffix == ".json":
        data, problem = _decode(text)
        return [ParsedRow(1, None, [problem]) if problem else parse_report_data(1, data, today)]
    return parse_report_lines(text.splitlines(), today)
