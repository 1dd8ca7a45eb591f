"""Render the 《用人单位职业病危害综合风险评估报告》 (附件4) and the 公示 notice as PDF bytes.

Pure functions (no database, no network, nothing downloaded)::

    render_report_pdf(report, result) -> bytes   # A4, page numbers, trace as appendix
    render_notice_pdf(report, result) -> bytes   # the bulletin-board notice

Both take an optional ``templates=`` directory searched before the packaged one, so an agency
can replace ``report.xml.j2`` or ``notice.xml.j2`` (wording, order, layout) without touching
Python.

How it works: a Jinja2 template (``services/assessment/documents/templates/*.xml.j2``,
autoescaped, so every ``{{ … }}`` is XML-escaped and names with ``& < >`` are safe) produces a small XML document, which this module
turns into reportlab Platypus flowables. The Chinese font is reportlab's built-in CID font
``STSong-Light`` (Adobe-GB1, UniGB-UCS2-H encoding): no font file is shipped or embedded; PDF
viewers supply the glyphs, and the text layer extracts as Unicode (checked with pypdf). Runs of
printable ASCII (credit codes, dates, scores) are set in the standard-14 ``Times-Roman``, whose
metrics every viewer knows, so they are spaced right even where the viewer substitutes the CJK
font.

The markup (everything else is an error naming the tag)::

    <document title="…" footer="第 {page} 页 共 {pages} 页">   root; title → PDF metadata;
                                 footer (optional) is drawn centred at the foot of every page,
                                 {page} and {pages} replaced by the page number and page count
      <h1>…</h1>                 document title, centred, large
      <h2>…</h2>                 section heading (starts a new page when under 30 mm is left)
      <p align="left|center|right|justify" size="10.5" indent="2" box="1" space="6">…</p>
                                 paragraph; all attributes optional: size in pt, indent = first-
                                 line indent in characters, box="1" draws a frame (for the
                                 result), space = extra space above in pt
      <table widths="20,30,50" align="center" border="1" size="9.5">
                                 widths: relative column widths (default equal); border="0"
                                 for a layout table without rules; size: cell font size in pt
        <tr><th>…</th><td colspan="2" align="center">…</td></tr>
      </table>                   th = shaded label cell; leading rows made only of th cells are
                                 the header, repeated after a page break; td/th take colspan
                                 and align
      <spacer h="12"/>           vertical space in pt
      <keep>…</keep>             keep the enclosed blocks on one page
      <pagebreak/>               start a new page

Inside p, h1, h2, td and th: text and ``<br/>`` only. Whitespace runs (including line breaks in
the template) collapse to one space, as in HTML; write a paragraph on one line.

Template context: ``report`` (shared.contracts.Report), ``result`` (AssessmentClassified),
``enterprise`` (report.enterprise), ``assessor`` (result.assessor or report.assessor); filters
``cn_date`` (2023年6月1日; empty for None) and ``num`` (82.5, 90 — no trailing .0).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from shared.contracts import AssessmentClassified, Report

TEMPLATES = Path(__file__).resolve().parent.parent / "documents" / "templates"  # packaged with services.assessment
FONT = "STSong-Light"
LATIN_FONT = "Times-Roman"  # standard-14: every viewer has it, so Latin text is spaced right

BODY_SIZE = 10.5  # 五号
CELL_SIZE = 9.5
MARGIN = 20 * mm
HEADING_ROOM = 30 * mm  # a section heading starts a new page when less room than this is left
LABEL_SHADE = colors.HexColor("#EEEEEE")

_ALIGN = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT, "justify": TA_JUSTIFY}
_TABLE_ALIGN = {"left": "LEFT", "center": "CENTER", "right": "RIGHT"}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACES = re.compile(r"\s+")
_LATIN = re.compile(r"([!-~](?:[ -~]*[!-~])?)")  # printable ASCII runs, without edge spaces


class MarkupError(ValueError):
    """The template produced markup this renderer does not understand."""


# --------------------------------------------------------------------------- public API


def render_report_pdf(report: Report, result: AssessmentClassified, *, templates: str | Path | None = None) -> bytes:
    """《用人单位职业病危害综合风险评估报告》 (附件4) for a classified report: A4 PDF bytes."""
    return markup_to_pdf(render_markup("report.xml.j2", report, result, templates=templates))


def render_notice_pdf(report: Report, result: AssessmentClassified, *, templates: str | Path | None = None) -> bytes:
    """职业病危害综合风险评估结果公示 (the bulletin-board notice): A4 PDF bytes."""
    return markup_to_pdf(render_markup("notice.xml.j2", report, result, templates=templates))


def render_markup(
    template: str, report: Report, result: AssessmentClassified, *, templates: str | Path | None = None
) -> str:
    """The markup (see the module docstring) a template produces for one report."""
    env = _environment(str(templates) if templates is not None else None)
    return env.get_template(template).render(
        report=report,
        result=result,
        enterprise=report.enterprise,
        assessor=result.assessor or report.assessor,
    )


def markup_to_pdf(markup: str) -> bytes:
    """Lay out the markup on A4 pages with reportlab and return the PDF bytes."""
    _register_font()
    try:
        root = ET.fromstring(markup)
    except ET.ParseError as exc:
        raise MarkupError(f"template output is not well-formed XML: {exc}") from exc
    if root.tag != "document":
        raise MarkupError(f"the root element must be <document>, not <{root.tag}>")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=root.get("title", ""),
        author=root.get("author", ""),
        creator="ohs-classified-supervision",
        lang="zh-CN",
        invariant=1,  # same input, same bytes: no timestamp or random document id
    )
    flowables = _blocks(root, doc.width)
    doc.build(flowables, canvasmaker=partial(_FooterCanvas, footer=root.get("footer", "")))
    return buffer.getvalue()


# --------------------------------------------------------------------------- templates


def _clean(value: Any) -> Any:
    """Jinja finalize: None prints as nothing, and characters XML cannot carry are dropped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _XML_INVALID.sub("", value)
    return value


def cn_date(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def num(value: float | int | None) -> str:
    return "" if value is None else f"{value:g}"


@lru_cache(maxsize=8)
def _environment(override: str | None) -> Environment:
    loaders = [FileSystemLoader(override)] if override else []
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_clean,
        auto_reload=True,
    )
    env.filters["cn_date"] = cn_date
    env.filters["num"] = num
    return env


# --------------------------------------------------------------------------- markup → flowables


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _style(name: str, size: float = BODY_SIZE, align: int = TA_LEFT, **extra: Any) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=FONT, fontSize=size, leading=size * 1.5, alignment=align, wordWrap="CJK", **extra
    )


_H1 = _style("h1", 18, TA_CENTER, spaceBefore=6, spaceAfter=10)
_H2 = _style("h2", 13, TA_LEFT, spaceBefore=10, spaceAfter=4)


def _text(raw: str | None) -> str:
    """Escaped paragraph markup for plain text; Latin runs (codes, dates, scores) in LATIN_FONT."""
    text = _SPACES.sub(" ", raw or "")
    return "".join(
        f'<font name="{LATIN_FONT}">{escape(run)}</font>' if _LATIN.fullmatch(run) else escape(run)
        for run in _LATIN.split(text)
        if run
    )


def _inline(element: ET.Element) -> str:
    """Text and <br/> of an element as reportlab paragraph markup, every character escaped."""
    segments = [element.text or ""]
    for child in element:
        if child.tag != "br":
            raise MarkupError(f"<{child.tag}> is not allowed inside <{element.tag}>: only text and <br/>")
        segments.append(child.tail or "")
    segments[0] = segments[0].lstrip()
    segments[-1] = segments[-1].rstrip()
    return "<br/>".join(_text(segment) for segment in segments)


def _float(element: ET.Element, name: str, default: float) -> float:
    raw = element.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise MarkupError(f"<{element.tag} {name}={raw!r}>: not a number") from None


def _alignment(element: ET.Element, default: str = "left") -> int:
    value = element.get("align", default)
    if value not in _ALIGN:
        raise MarkupError(f"<{element.tag} align={value!r}>: use one of {', '.join(_ALIGN)}")
    return _ALIGN[value]


def _paragraph(element: ET.Element) -> Paragraph:
    size = _float(element, "size", BODY_SIZE)
    extra: dict[str, Any] = {
        "firstLineIndent": _float(element, "indent", 0) * size,
        "spaceBefore": _float(element, "space", 0),
        "spaceAfter": 3,
    }
    if element.get("box") == "1":
        extra.update(borderWidth=1.2, borderColor=colors.black, borderPadding=(6, 8, 8, 8), spaceBefore=extra["spaceBefore"] + 10, spaceAfter=12)
    return Paragraph(_inline(element), _style(f"p{size}", size, _alignment(element), **extra))


def _blocks(parent: ET.Element, width: float) -> list[Flowable]:
    out: list[Flowable] = []
    for element in parent:
        tag = element.tag
        if tag == "h1":
            out.append(Paragraph(_inline(element), _H1))
        elif tag == "h2":
            out.append(CondPageBreak(HEADING_ROOM))  # no heading alone at the foot of a page
            out.append(Paragraph(_inline(element), _H2))
        elif tag == "p":
            out.append(_paragraph(element))
        elif tag == "table":
            out.append(_table(element, width))
        elif tag == "spacer":
            out.append(Spacer(1, _float(element, "h", 12)))
        elif tag == "keep":
            out.append(KeepTogether(_blocks(element, width)))
        elif tag == "pagebreak":
            out.append(PageBreak())
        else:
            raise MarkupError(f"unknown element <{tag}> in <{parent.tag}>")
    return out


def _table(element: ET.Element, width: float) -> Table:
    rows = list(element)
    for row in rows:
        if row.tag != "tr":
            raise MarkupError(f"<{row.tag}> is not allowed in <table>: only <tr>")
    if not rows:
        raise MarkupError("<table> has no <tr>")
    bordered = element.get("border", "1") != "0"
    commands: list[tuple] = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if bordered:
        commands.append(("GRID", (0, 0), (-1, -1), 0.6, colors.black))
        commands.append(("BOX", (0, 0), (-1, -1), 1.2, colors.black))
    size = _float(element, "size", CELL_SIZE)
    grid: list[list[Any]] = []
    header_rows = 0
    header_done = False
    for r, row in enumerate(rows):
        cells: list[Any] = []
        only_th = True
        for cell in row:
            if cell.tag not in ("td", "th"):
                raise MarkupError(f"<{cell.tag}> is not allowed in <tr>: only <td> and <th>")
            label = cell.tag == "th"
            only_th = only_th and label
            align = _alignment(cell, "center" if label else "left")
            span = int(_float(cell, "colspan", 1))
            c = len(cells)
            cells.append(Paragraph(_inline(cell), _style(f"cell{align}{size}", size, align)))
            cells.extend([""] * (span - 1))
            if span > 1:
                commands.append(("SPAN", (c, r), (c + span - 1, r)))
            if label and bordered:
                commands.append(("BACKGROUND", (c, r), (c + span - 1, r), LABEL_SHADE))
        if only_th and cells and not header_done:
            header_rows += 1
        else:
            header_done = True
        grid.append(cells)
    columns = max(len(row) for row in grid)
    for row in grid:
        row.extend([""] * (columns - len(row)))
    weights = [float(w) for w in element.get("widths", "").split(",") if w.strip()] or [1.0] * columns
    if len(weights) != columns:
        raise MarkupError(f"<table widths=…> gives {len(weights)} widths for {columns} columns")
    total = sum(weights)
    table = Table(
        grid,
        colWidths=[width * w / total for w in weights],
        repeatRows=header_rows,
        hAlign=_TABLE_ALIGN.get(element.get("align", "center"), "CENTER"),
        spaceBefore=4,
        spaceAfter=6,
    )
    table.setStyle(TableStyle(commands))
    return table


# --------------------------------------------------------------------------- page footer


class _FooterCanvas(Canvas):
    """Holds every page until the end so the footer can say how many pages there are."""

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            if self._footer:
                text = self._footer.replace("{page}", str(number)).replace("{pages}", str(total))
                self.setFont(FONT, 9)
                self.drawCentredString(A4[0] / 2, 12 * mm, text)
            super().showPage()
        super().save()
