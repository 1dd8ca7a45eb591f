"""Render the 《用人单位职业病危害综合风险评估报告》 (附件4) and the 公示 notice as PDF bytes.

Pure functions (no database, no network, nothing downloaded)::

    render_report_pdf(report, result) -> bytes   # A4, page numbers, trace as appendix
    render_notice_pdf(report, result) -> bytes   # the bulletin-board notice

Both take an optional ``templates=`` directory searched before the packaged one, so an agency
can replace ``report.xml.j2`` or ``notice.xml.j2`` (wording, order, layout) without touching
Python.

How it works: a Jinja2 template (``services/assessment/documents/templates/*.xml.j2``,
autoescaped, so every ``{{ … }}`` is XML-escaped and names with ``& < >`` are safe) produces a small
XML document, which this module turns into reportlab Platypus flowables. Every heading, label and
sentence of a template is a message code of the ``documents`` catalogue
(``shared/i18n/locales/<locale>/LC_MESSAGES/documents.po``), written in the document's language —
Chinese (``zh_CN``); the flags (需关注事项) and the trace (附录) are ``flag.text(locale)`` and
``entry.text(locale)``; dates read 2023年6月1日. Agencies file these documents, so they print the
same everywhere:

* **One font, embedded and subset.** Every character is set in *Noto Sans CJK SC Regular*
  (SIL Open Font License), converted to TrueType outlines and cut down to GBK, the 通用规范汉字表
  and the symbols the platform prints (``services/assessment/documents/fonts/``: the font, its
  licence, the script that built it and a README). reportlab embeds, in each PDF, only the glyphs
  the document uses (font names ``AAAAAA+NotoSansCJKsc-Regular``, ``AAAAAB+…``, 256 glyphs each),
  so no viewer or printer needs a font of its own. Nothing is downloaded.
* **No character vanishes.** A character the font lacks (a rare character beyond GBK, say
  𪚥 in an enterprise's name) is printed as 〓 — the mark Chinese typesetting uses for a missing
  character — and a note at the end of the document names each such character by its code point
  (``documents.missing_glyphs``: 注：本文件所用字库未收录以下字符，文中以“〓”代替：U+2A6A5 …); the
  renderer also logs a warning. Invisible format characters (zero-width joiners, variation
  selectors) are dropped.
* **PDF/A-2u, as far as reportlab allows.** XMP metadata (``pdfaid:part`` 2, ``conformance`` U,
  and the title, author, subject, producer, creator tool and dates of the Info dictionary), an sRGB
  output intent (``services/assessment/documents/color/sRGB.icc``, from Debian's icc-profiles-free),
  every font embedded with a ToUnicode map, no .notdef glyph shown, an end-of-line before every
  ``endstream`` (reportlab writes none: patched below, as is its ToUnicode map for characters beyond
  U+FFFF), no transparency, no encryption. veraPDF 1.28 passes the report and the notice for
  PDF/A-2B and PDF/A-2U (by hand: ``services/assessment/documents/verapdf.sh``); the unit tests
  check these properties with pypdf. Not PDF/A-2a: reportlab writes no tagged structure.

The markup (everything else is an error naming the tag)::

    <document title="…" author="…" subject="…" footer="第 {page} 页 共 {pages} 页">
                                 root; title, author, subject → PDF metadata (Info and XMP);
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
``enterprise`` (report.enterprise), ``assessor`` (result.assessor or report.assessor), ``locale``
(``zh_CN``); functions ``t(code, **params)`` (a text of the catalogue in ``locale``), ``term(word)``
(a domain term: itself in Chinese), ``day(date)`` (2023年6月1日; empty for None) and
``join_list(items)`` (joined with 、); filters ``cn_date`` (2023年6月1日; empty for None) and ``num``
(82.5, 90 — no trailing .0). An agency's own template may use them or plain Chinese text.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import unicodedata
import xml.etree.ElementTree as ET
from contextvars import ContextVar
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
from reportlab.pdfbase import pdfdoc, pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
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

from shared import i18n
from shared.contracts import AssessmentClassified, Report

log = logging.getLogger(__name__)

DOCUMENTS = Path(__file__).resolve().parent.parent / "documents"  # packaged with services.assessment
TEMPLATES = DOCUMENTS / "templates"
FONT_FILE = DOCUMENTS / "fonts" / "NotoSansCJKsc-Regular-subset.ttf"  # see fonts/README.md
ICC_PROFILE = DOCUMENTS / "color" / "sRGB.icc"  # see color/README.md
FONT = "NotoSansCJKsc"  # the one font of every document, embedded and subset
MISSING_MARK = "〓"  # U+3013 GETA MARK: printed for a character the font lacks
CREATOR = "ohs-classified-supervision"

BODY_SIZE = 10.5  # 五号
CELL_SIZE = 9.5
MARGIN = 20 * mm
HEADING_ROOM = 30 * mm  # a section heading starts a new page when less room than this is left
LABEL_SHADE = colors.HexColor("#EEEEEE")

_ALIGN = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT, "justify": TA_JUSTIFY}
_TABLE_ALIGN = {"left": "LEFT", "center": "CENTER", "right": "RIGHT"}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACES = re.compile(r"\s+")
_PDF_LANG = {i18n.ZH: "zh-CN", i18n.EN: "en"}
_RENDER = threading.Lock()  # reportlab keeps a font's subsets per document on the one font object: one render at a time
_missing: ContextVar[set[str] | None] = ContextVar("missing_characters", default=None)


class MarkupError(ValueError):
    """The template produced markup this renderer does not understand."""


# --------------------------------------------------------------------------- public API


def render_report_pdf(report: Report, result: AssessmentClassified, *, templates: str | Path | None = None) -> bytes:
    """《用人单位职业病危害综合风险评估报告》 (附件4) for a classified report: A4 PDF bytes, in Chinese."""
    return markup_to_pdf(render_markup("report.xml.j2", report, result, templates=templates))


def render_notice_pdf(report: Report, result: AssessmentClassified, *, templates: str | Path | None = None) -> bytes:
    """职业病危害综合风险评估结果公示 (the bulletin-board notice): A4 PDF bytes, in Chinese."""
    return markup_to_pdf(render_markup("notice.xml.j2", report, result, templates=templates))


def render_markup(
    template: str,
    report: Report,
    result: AssessmentClassified,
    *,
    templates: str | Path | None = None,
    locale: str = i18n.ZH,
) -> str:
    """The markup (see the module docstring) a template produces for one report, its texts in ``locale``."""
    env = _environment(str(templates) if templates is not None else None)
    return env.get_template(template).render(
        report=report,
        result=result,
        enterprise=report.enterprise,
        assessor=result.assessor or report.assessor,
        locale=locale,
        t=lambda message_code, /, **params: i18n.text(message_code, params, locale),
        term=lambda word: i18n.term(word, locale),
        day=lambda value: i18n.local_date(value, locale) if value else "",
        join_list=lambda items: ("、" if locale == i18n.ZH else ", ").join(str(item) for item in items),
    )


def markup_to_pdf(markup: str, *, locale: str = i18n.ZH) -> bytes:
    """Lay out the markup on A4 pages with reportlab and return the PDF bytes (``locale``: the
    language of the document, for its metadata and the note on missing characters)."""
    try:
        root = ET.fromstring(markup)
    except ET.ParseError as exc:
        raise MarkupError(f"template output is not well-formed XML: {exc}") from exc
    if root.tag != "document":
        raise MarkupError(f"the root element must be <document>, not <{root.tag}>")
    with _RENDER:
        font = _font()
        token = _missing.set(set())
        try:
            footer = _printable(_SPACES.sub(" ", root.get("footer", "")))
            flowables = _blocks(root, A4[0] - 2 * MARGIN)
            missing = sorted(_missing.get() or (), key=ord)
        finally:
            _missing.reset(token)
        if missing:
            log.warning("the document font has no glyph for %s: printed as %s", " ".join(_code_point(c) for c in missing), MISSING_MARK)
            note = i18n.text("documents.missing_glyphs", {"mark": MISSING_MARK, "characters": [_code_point(c) for c in missing]}, locale)
            flowables.append(Paragraph(escape(note), _style("missing", 9, TA_LEFT, spaceBefore=12)))
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
            subject=root.get("subject", ""),
            creator=CREATOR,
            lang=_PDF_LANG.get(locale, "zh-CN"),
            invariant=1,  # same input, same bytes: no timestamp or random document id
            initialFontName=font.fontName,  # else every page starts by selecting Helvetica, a font no PDF embeds
        )
        doc.build(flowables, canvasmaker=partial(_DocumentCanvas, footer=footer))
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


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap of a font subset, with a character beyond U+FFFF (𬌗, 𫖯: 196 of the
    通用规范汉字表 lie there) written as its UTF-16 surrogate pair, as the PDF format asks (reportlab
    writes ``<2C317>``, and the text layer loses the character)."""
    cmap = _reportlab_to_unicode_cmap(fontname, subset)
    if all(code <= 0xFFFF for code in subset):
        return cmap
    wide = {"<%02X> <%04X>" % (i, code): "<%02X> <%s>" % (i, chr(code).encode("utf-16-be").hex().upper())
            for i, code in enumerate(subset) if code > 0xFFFF}
    return "\n".join(wide.get(line, line) for line in cmap.split("\n"))


_reportlab_to_unicode_cmap = ttfonts.makeToUnicodeCMap
if getattr(ttfonts.makeToUnicodeCMap, "__name__", "") != "_to_unicode_cmap":
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # looked up by TTFont.addObjects when it writes the subsets


def _stream_with_eol(self: pdfdoc.PDFStream, document: Any) -> bytes:
    """reportlab's stream object with an end-of-line before ``endstream``, as PDF/A asks (ISO 19005-2
    6.1.7.1: ``Length`` counts the bytes between the EOL after ``stream`` and the EOL before
    ``endstream``; reportlab writes the data and ``endstream`` with nothing between them)."""
    formatted = _reportlab_stream_format(self, document)
    if not formatted.endswith(b"endstream\n"):
        return formatted
    return formatted[: -len(b"endstream\n")] + b"\nendstream\n"


_reportlab_stream_format = pdfdoc.PDFStream.format
if pdfdoc.PDFStream.format.__name__ != "_stream_with_eol":
    pdfdoc.PDFStream.format = _stream_with_eol  # type: ignore[method-assign]


@lru_cache(maxsize=1)
def _font() -> TTFont:
    """The committed Noto Sans CJK SC subset, registered with reportlab once per process."""
    font = TTFont(FONT, str(FONT_FILE))
    pdfmetrics.registerFont(font)
    return font


def _style(name: str, size: float = BODY_SIZE, align: int = TA_LEFT, **extra: Any) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=FONT, fontSize=size, leading=size * 1.5, alignment=align, wordWrap="CJK", **extra
    )


_H1 = _style("h1", 18, TA_CENTER, spaceBefore=6, spaceAfter=10)
_H2 = _style("h2", 13, TA_LEFT, spaceBefore=10, spaceAfter=4)


def _code_point(character: str) -> str:
    return f"U+{ord(character):04X}"


def _printable(text: str) -> str:
    """``text`` with every character the font lacks replaced by 〓 (and remembered for the note at the
    end of the document); invisible format characters (Cf: zero-width joiners, direction marks;
    variation selectors) are dropped: they print nothing in any font."""
    glyphs = _font().face.charToGlyph
    out: list[str] = []
    for character in text:
        code = ord(character)
        if code in glyphs or character == " ":
            out.append(character)
        elif unicodedata.category(character) == "Cf" or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
            continue
        else:
            out.append(MISSING_MARK)
            missing = _missing.get()
            if missing is not None:
                missing.add(character)
    return "".join(out)


def _text(raw: str | None) -> str:
    """Escaped paragraph markup for plain text, in the one font (characters it lacks as 〓)."""
    return escape(_printable(_SPACES.sub(" ", raw or "")))


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
        ("FONTNAME", (0, 0), (-1, -1), FONT),  # the span fillers are strings: no standard-14 font either
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


# --------------------------------------------------------------------------- page footer and PDF/A


class _DocumentCanvas(Canvas):
    """Holds every page until the end so the footer can say how many pages there are; on saving,
    adds what PDF/A-2b asks beyond what reportlab writes: XMP metadata and an sRGB output intent."""

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
        _archival(self._doc)
        super().save()


def _archival(doc: pdfdoc.PDFDocument) -> None:
    """XMP metadata matching the Info dictionary, and the sRGB output intent (PDF/A-2b, 6.6 and 6.2.3)."""
    info = doc.info
    stamp = doc._timeStamp  # the Info dictionary's CreationDate and ModDate (fixed in invariant mode)
    year, month, day, hour, minute, second = stamp.YMDhms
    offset = f"{'+' if stamp.dhh >= 0 else '-'}{abs(stamp.dhh):02d}:{stamp.dmm:02d}"
    when = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{offset}"
    language = str(getattr(doc.Catalog, "Lang", None) and doc.Catalog.Lang.s or "zh-CN")
    x = lambda value: escape(str(value), {'"': "&quot;"})  # noqa: E731
    xmp = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>U</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{x(info.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{x(info.author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{x(info.subject)}</rdf:li></rdf:Alt></dc:description>
   <dc:language><rdf:Bag><rdf:li>{x(language)}</rdf:li></rdf:Bag></dc:language>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Producer>{x(info.producer)}</pdf:Producer>
   <pdf:Keywords>{x(info.keywords)}</pdf:Keywords>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreatorTool>{x(info.creator)}</xmp:CreatorTool>
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    metadata = pdfdoc.PDFStream(
        pdfdoc.PDFDictionary({"Type": pdfdoc.PDFName("Metadata"), "Subtype": pdfdoc.PDFName("XML")}),
        content=xmp.encode("utf-8"),
        filters=None,  # no /Filter: uncompressed, so any reader finds the packet (the document sets no default filters)
    )
    profile = pdfdoc.PDFStream(
        pdfdoc.PDFDictionary({"N": 3}), content=_icc_profile(), filters=[pdfdoc.PDFZCompress]
    )
    intent = pdfdoc.PDFDictionary({
        "Type": pdfdoc.PDFName("OutputIntent"),
        "S": pdfdoc.PDFName("GTS_PDFA1"),
        "OutputConditionIdentifier": pdfdoc.PDFString("sRGB IEC61966-2.1"),
        "RegistryName": pdfdoc.PDFString("http://www.color.org"),
        "Info": pdfdoc.PDFString("sRGB IEC61966-2.1"),
        "DestOutputProfile": doc.Reference(profile),
    })
    catalog = doc.Catalog
    catalog.Metadata = metadata
    catalog.OutputIntents = pdfdoc.PDFArray([intent])
    catalog.__NoDefault__ = [*pdfdoc.PDFCatalog.__NoDefault__, "OutputIntents"]  # the catalogue writes the keys it lists


@lru_cache(maxsize=1)
def _icc_profile() -> bytes:
    return ICC_PROFILE.read_bytes()
