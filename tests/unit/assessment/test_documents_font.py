"""The documents an agency files print the same everywhere, in Chinese.

An employer downloads its 评估报告 and its 公示 notice and prints them on an office machine that has
no Chinese font at all; the county files the report. So each PDF carries its own font — one font,
Noto Sans CJK SC, embedded and cut down to the glyphs that document uses — says everything in
Chinese (dates as 2023年6月1日), never lets a character vanish, and declares itself PDF/A-2u, the
archival form, with the metadata and colour profile that form asks for. Each story below reads the
PDF back with pypdf, as an archive's checker would.
"""

from __future__ import annotations

import copy
import io
import logging
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from services.assessment.adapters.documents import FONT_FILE, ICC_PROFILE, render_notice_pdf, render_report_pdf
from services.assessment.adapters.rules import load_assessment_rules
from services.assessment.service_layer import handlers
from shared.contracts import AssessmentClassified, Flag, Report, ReportSubmitted, TraceEntry
from tests.examples import EXAMPLE_REPORT
from tests.unit.assessment.fakes import FakeUnitOfWork
from tests.unit.assessment.test_documents import make_report, make_result

STANDARD_14 = {"Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic", "Helvetica", "Helvetica-Bold",
               "Helvetica-Oblique", "Helvetica-BoldOblique", "Courier", "Courier-Bold", "Courier-Oblique",
               "Courier-BoldOblique", "Symbol", "ZapfDingbats"}
SUBSET_FONT = re.compile(r"/[A-Z]{6}\+NotoSansCJKsc-Regular")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,:;'()-]+[A-Za-z]{2,}){2,}")  # three English words in a row


def squeeze(text: str) -> str:
    return "".join(text.split())


def raw_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def page_fonts(pdf: bytes) -> list[DictionaryObject]:
    """Every font every page's resources name (a Type0 font by its descendant, which holds the descriptor)."""
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            fonts.append(font)
            if font["/Subtype"] == "/Type0":
                fonts.extend(d.get_object() for d in font["/DescendantFonts"])
    return fonts


@pytest.fixture(scope="module")
def report() -> Report:
    return make_report()


@pytest.fixture(scope="module")
def result(report: Report) -> AssessmentClassified:
    """The example report's classification, its flag and trace as they are recorded today: a coded flag
    (its Chinese text from the catalogue when its values are there, else as written) and Chinese lines."""
    return make_result(
        report,
        flags=[Flag(code="publicity_short", message="公示不足5个工作日（2023年6月2日至6月8日）")],
        trace=[
            TraceEntry(rule="附件1 附表1-1 职业病危害风险分级", detail="矽尘：严重 × 不符合 × 10–49 → Ⅲ"),
            TraceEntry(rule="附件3 综合风险类别", detail="职业病危害风险等级 × 职业卫生管理状况等级：Ⅲ × B → 丙"),
        ],
    )


@pytest.fixture(scope="module")
def report_pdf(report: Report, result: AssessmentClassified) -> bytes:
    return render_report_pdf(report, result)


@pytest.fixture(scope="module")
def notice_pdf(report: Report, result: AssessmentClassified) -> bytes:
    return render_notice_pdf(report, result)


# --------------------------------------------------------------------------- one font, embedded and subset


def test_every_font_of_every_page_is_the_one_font_embedded_and_subset(report_pdf: bytes, notice_pdf: bytes) -> None:
    for pdf in (report_pdf, notice_pdf):
        fonts = page_fonts(pdf)
        assert fonts
        for font in fonts:
            name = str(font["/BaseFont"])
            assert SUBSET_FONT.fullmatch(name), f"{name}: not a subset of the document font"
            assert name.split("+")[-1] not in STANDARD_14
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, f"{name} is not embedded"
            assert str(descriptor["/FontName"]) == name
            assert "/ToUnicode" in font, f"{name}: its text would not extract"
        assert b"STSong" not in pdf and b"/Helvetica" not in pdf and b"/Times" not in pdf


def test_only_the_glyphs_a_document_uses_travel_with_it(report_pdf: bytes, notice_pdf: bytes) -> None:
    for pdf in (report_pdf, notice_pdf):
        programs = {id(f["/FontDescriptor"].get_object()): f["/FontDescriptor"].get_object()["/FontFile2"].get_object()
                    for f in page_fonts(pdf)}
        embedded = sum(len(program.get_data()) for program in programs.values())
        assert embedded < 400_000 < 7_000_000 < FONT_FILE.stat().st_size  # a few hundred glyphs, not the 23,221
        assert len(pdf) < 200_000


# --------------------------------------------------------------------------- Chinese throughout


def test_the_report_reads_in_chinese_from_its_title_to_its_appendix(report_pdf: bytes, result: AssessmentClassified) -> None:
    raw = raw_text(report_pdf)
    text = squeeze(raw)
    for needle in (
        "附件4", "用人单位职业病危害综合风险评估报告", "一、用人单位基本情况", "用人单位名称", "乡宁县示例水泥有限公司",
        "统一社会信用代码", "91141029MA0GRT8U3L", "投产日期2016年4月1日", "评估日期2023年6月1日", "用人单位自评",
        "二、职业病危害风险分级（附件1）", "矽尘严重（依危害因素目录）不符合2410–49Ⅲ", "用人单位职业病危害风险等级：Ⅲ",
        "三、职业卫生管理状况分级（附件2）", "82.5分（用人单位填报）", "四、综合风险类别（附件3）", "综合风险类别：丙类",
        "（甲类风险最低，丙类风险最高；本单位为风险较高）", "五、需关注事项", "六、评估依据及复评",
        "全国（CN）规则版本2022.1，自2022年11月1日起施行（暂行：", "应于2026年6月1日前重新评估",
        "评估结果已在本单位公告栏公示（2023年6月2日至2023年6月8日）", "附录判定过程记录", "第1页共3页",
    ):
        assert needle in text, needle
    assert "1." + squeeze(result.flags[0].text("zh_CN")) in text
    for entry in result.trace:
        assert squeeze(entry.text("zh_CN")) in text
    assert not ENGLISH_SENTENCE.search(raw), ENGLISH_SENTENCE.search(raw)


def test_the_notice_reads_in_chinese(notice_pdf: bytes) -> None:
    raw = raw_text(notice_pdf)
    text = squeeze(raw)
    for needle in (
        "职业病危害综合风险评估结果公示", "本单位于2023年6月1日自行开展了职业病危害综合风险评估", "用人单位名称乡宁县示例水泥有限公司",
        "职业病危害风险等级Ⅲ", "职业卫生管理状况等级B", "综合风险类别丙类（甲类风险最低，丙类风险最高）",
        "公示期：2023年6月2日至2023年6月8日。", "发布单位：乡宁县示例水泥有限公司（盖章）", "日期：______年____月____日",
    ):
        assert needle in text, needle
    assert not ENGLISH_SENTENCE.search(raw), ENGLISH_SENTENCE.search(raw)


def test_the_example_report_classified_by_the_pipeline_prints_its_flags_and_trace_as_their_chinese_texts() -> None:
    """Received half a year late, the example report carries flags; the document prints each flag and each
    trace line as ``text("zh_CN")`` renders it from its code and values."""
    uow = FakeUnitOfWork()
    received = date(2023, 12, 1)
    accepted = handlers.accept_report(uow, Report.model_validate(copy.deepcopy(EXAMPLE_REPORT) | {"submission_id": str(uuid.uuid4())}), received)
    handlers.classify_submission(uow, ReportSubmitted(
        producer="assessment", credit_code=accepted.submission.credit_code, submission_id=uuid.UUID(accepted.submission.submission_id),
        received_at=datetime(2023, 12, 1, 9, tzinfo=timezone.utc), report=Report.model_validate(accepted.submission.report),
    ), load_assessment_rules())
    classified = uow.published[-1]
    assert isinstance(classified, AssessmentClassified) and classified.flags
    text = squeeze(raw_text(render_report_pdf(Report.model_validate(accepted.submission.report), classified)))
    for number, flag in enumerate(classified.flags, start=1):
        assert f"{number}." + squeeze(flag.text("zh_CN")) in text, flag.code
    for entry in classified.trace:
        assert squeeze(entry.text("zh_CN")) in text, entry.code


# --------------------------------------------------------------------------- no character vanishes


def test_a_character_the_font_lacks_prints_as_a_geta_mark_and_a_note_names_it(caplog: pytest.LogCaptureFixture) -> None:
    """𪚥 (U+2A6A5, CJK Extension B) is in no font subset of the platform; 𬌗 (U+2C317, 通用规范汉字表) and 龘
    (GBK) are. A zero-width joiner prints nothing in any font and is dropped."""
    name = "乡宁县𪚥龘𬌗\u200d示例水泥有限公司"
    report = make_report(name=name)
    with caplog.at_level(logging.WARNING, logger="services.assessment.adapters.documents"):
        pdf = render_notice_pdf(report, make_result(report, enterprise_name=name))
    raw = raw_text(pdf)
    text = squeeze(raw)
    assert "乡宁县〓龘𬌗示例水泥有限公司" in text
    assert "注：本文件所用字库未收录以下字符，文中以“〓”代替：U+2A6A5。核对时请以电子数据为准。" in text
    assert "\x00" not in raw and "\ufffd" not in raw  # no .notdef glyph, nothing unmapped
    assert "U+2A6A5" in caplog.text
    assert all(SUBSET_FONT.fullmatch(str(font["/BaseFont"])) for font in page_fonts(pdf))


def test_a_document_whose_characters_are_all_in_the_font_has_no_note(report_pdf: bytes, notice_pdf: bytes) -> None:
    assert "字库未收录" not in squeeze(raw_text(report_pdf)) + squeeze(raw_text(notice_pdf))


# --------------------------------------------------------------------------- PDF/A-2u


def test_the_documents_declare_pdfa_2u_with_matching_xmp_metadata(report_pdf: bytes, notice_pdf: bytes) -> None:
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
    for pdf, title in ((report_pdf, "用人单位职业病危害综合风险评估报告 乡宁县示例水泥有限公司"),
                       (notice_pdf, "职业病危害综合风险评估结果公示 乡宁县示例水泥有限公司")):
        reader = PdfReader(io.BytesIO(pdf))
        catalog = reader.trailer["/Root"]
        metadata = catalog["/Metadata"].get_object()
        assert (metadata["/Type"], metadata["/Subtype"]) == ("/Metadata", "/XML") and "/Filter" not in metadata
        xmp = ET.fromstring(metadata.get_data().decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
        values = {element.tag.split("}")[1]: (element.text or "").strip() for element in xmp.iter()}
        assert (values["part"], values["conformance"]) == ("2", "U")
        info = reader.metadata
        assert info.title == title and xmp.find(f".//{{http://purl.org/dc/elements/1.1/}}title/{rdf}Alt/{rdf}li").text == title
        assert info.author == "乡宁县示例水泥有限公司" == xmp.find(f".//{{http://purl.org/dc/elements/1.1/}}creator/{rdf}Seq/{rdf}li").text
        assert values["Producer"] == info.producer and values["CreatorTool"] == info.creator
        assert values["CreateDate"] == info.creation_date.isoformat() and values["ModifyDate"] == info.modification_date.isoformat()
        assert "/ID" in reader.trailer and str(catalog["/Lang"]) == "zh-CN"


def test_the_documents_carry_an_srgb_output_intent(report_pdf: bytes, notice_pdf: bytes) -> None:
    for pdf in (report_pdf, notice_pdf):
        [intent] = [i.get_object() for i in PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/OutputIntents"]]
        assert intent["/S"] == "/GTS_PDFA1" and intent["/OutputConditionIdentifier"] == "sRGB IEC61966-2.1"
        profile = intent["/DestOutputProfile"].get_object()
        assert profile["/N"] == 3 and profile.get_data() == ICC_PROFILE.read_bytes()


def test_every_stream_ends_with_an_end_of_line_before_endstream(report_pdf: bytes) -> None:
    assert report_pdf.count(b"endstream") == report_pdf.count(b"\nendstream") > 5

