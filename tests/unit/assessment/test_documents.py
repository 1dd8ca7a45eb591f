"""The printable documents: the 附件4 report and the 公示 notice, checked through pypdf's text layer.

Their font, its embedding and PDF/A: test_documents_font.py."""

from __future__ import annotations

import copy
import io
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from services.assessment.adapters.documents import (
    TEMPLATES,
    MarkupError,
    markup_to_pdf,
    render_markup,
    render_notice_pdf,
    render_report_pdf,
)
from shared import i18n
from shared.contracts import (
    AssessmentClassified,
    Assessor,
    FactorGrade,
    Flag,
    LostPoints,
    Report,
    RuleSetRef,
    TraceEntry,
)
from tests.examples import EXAMPLE_REPORT


def make_report(**enterprise: object) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["enterprise"].update(enterprise)
    return Report.model_validate(data)


def make_result(report: Report, **changes: object) -> AssessmentClassified:
    fields: dict[str, object] = dict(
        producer="assessment",
        credit_code=report.enterprise.credit_code,
        submission_id=report.submission_id,
        enterprise_name=report.enterprise.name,
        region_code=report.enterprise.region_code,
        industry_codes=report.enterprise.industry_codes,
        employees=report.enterprise.employees,
        assessed_on=report.assessed_on,
        hazard_grade="Ⅲ",
        management_grade="B",
        score=82.5,
        score_source="stated",
        category="丙",
        factors=[
            FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=False,
                        declared_compliant=False, test_status="valid", exposed=24, headcount_band="10–49", grade="Ⅲ"),
            FactorGrade(factor="噪声", nature="一般", nature_source="catalogue", compliant=True,
                        declared_compliant=True, test_status="valid", exposed=40, headcount_band="10–49", grade="Ⅰ"),
        ],
        lost_points=[LostPoints(item="7.1", title="上岗前、在岗期间和离岗时职业健康检查", earned=4.5, points=8)],
        flags=[Flag(code="publicity_short", message="公示不足5个工作日（2023年6月2日至6月8日）")],
        next_assessment_due=date(2026, 6, 1),
        assessor=report.assessor,
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[
            TraceEntry(rule="附件1 附表1-1 职业病危害风险分级", detail="矽尘: 严重 × 不符合 × 10–49 → Ⅲ"),
            TraceEntry(rule="附件1 附表1-1 职业病危害风险分级", detail="噪声: 一般 × 符合 × 10–49 → Ⅰ"),
            TraceEntry(rule="附件2 职业卫生管理状况分级", detail="自查得分 82.5，属 B 级（70–89.9）→ B"),
            TraceEntry(rule="附件3 综合风险类别", detail="Ⅲ × B → 丙"),
        ],
    )
    fields.update(changes)
    return AssessmentClassified(**fields)


def pages(pdf: bytes) -> list[str]:
    """Each page's text with all whitespace removed (line wrapping in table cells inserts breaks)."""
    return ["".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def text(pdf: bytes) -> str:
    return "".join(pages(pdf))


def between(haystack: str, start: str, end: str) -> str:
    i = haystack.index(start)
    return haystack[i : haystack.index(end, i + len(start))]


@pytest.fixture(scope="module")
def report() -> Report:
    return make_report()


@pytest.fixture(scope="module")
def result(report: Report) -> AssessmentClassified:
    return make_result(report)


@pytest.fixture(scope="module")
def report_pdf(report: Report, result: AssessmentClassified) -> bytes:
    return render_report_pdf(report, result)


@pytest.fixture(scope="module")
def notice_pdf(report: Report, result: AssessmentClassified) -> bytes:
    return render_notice_pdf(report, result)


def test_report_is_an_a4_pdf_with_page_numbers(report_pdf: bytes) -> None:
    assert report_pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(report_pdf))
    assert len(reader.pages) >= 2  # the trace is an appendix on its own page
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    for number, page_text in enumerate(pages(report_pdf), start=1):
        assert f"第{number}页共{len(reader.pages)}页" in page_text


def test_report_carries_the_employer_the_result_and_the_rule_version(report_pdf: bytes) -> None:
    t = text(report_pdf)
    for needle in (
        "用人单位职业病危害综合风险评估报告",
        "乡宁县示例水泥有限公司",
        "91141029MA0GRT8U3L",
        "141029",
        "C3011",
        "86",
        "2016年4月1日",
        "用人单位自评",
        "2023年6月1日",
        "82.5",
        "用人单位填报",
        "综合风险类别：丙类",
        "上岗前、在岗期间和离岗时职业健康检查",
        "公示不足5个工作日",
        "2022.1",
        "2022年11月1日",
        "暂行",
        "2026年6月1日",
    ):
        assert needle in t, needle
    assert "职业病危害风险等级：Ⅲ" in t
    assert "无失分项" not in t


def test_report_hazard_rows_carry_nature_exposure_headcount_and_grade(report_pdf: bytes) -> None:
    t = text(report_pdf)
    silica = between(t, "矽尘", "噪声")
    noise = between(t, "噪声", "用人单位职业病危害风险等级")
    assert "严重" in silica and "危害因素目录" in silica and "不符合" in silica and "24" in silica
    assert silica.endswith("10–49Ⅲ")
    assert "一般" in noise and "符合" in noise and "不符合" not in noise and "40" in noise
    assert noise.endswith("10–49Ⅰ")


def test_report_has_signature_and_seal_blanks(report_pdf: bytes) -> None:
    t = text(report_pdf)
    for blank in ("法定代表人（主要负责人）签字：______", "单位盖章：______", "日期：______"):
        assert blank in t, blank


def test_trace_is_an_appendix(report_pdf: bytes) -> None:
    last = pages(report_pdf)[-1]
    assert "附录" in last
    assert "附件3综合风险类别Ⅲ×B→丙" in last
    assert last.count("附件1附表1-1职业病危害风险分级") == 1  # the rule is named once for its detail lines
    assert "噪声:一般×符合×10–49→Ⅰ" in last


def test_missing_test_is_noted_and_no_lost_items_and_an_organisation_assessor() -> None:
    report = make_report()
    result = make_result(
        report,
        factors=[FactorGrade(factor="矽尘", nature="严重", nature_source="free_silica", compliant=False,
                             declared_compliant=True, test_status="missing", exposed=24, headcount_band="10–49", grade="Ⅲ")],
        lost_points=[],
        flags=[],
        score=100.0,
        score_source="computed",
        management_grade="A",
        hazard_grade="Ⅲ",
        category="乙",
        next_assessment_due=None,
        assessor=Assessor(type="organisation", org_id="91140100MA0K0000XX", org_name="山西某职业卫生技术服务有限公司"),
    )
    t = text(render_report_pdf(report, result))
    assert "未检测，按不符合计" in t
    assert "游离二氧化硅" in t
    assert "无失分项" in t
    assert "按逐项自查结果计算" in t and "100分" in t
    assert "山西某职业卫生技术服务有限公司" in t and "91140100MA0K0000XX" in t
    assert "综合风险类别：乙类" in t
    assert "下次评估" in t and "应于" not in t


def test_notice_carries_name_result_and_publicity_period(notice_pdf: bytes) -> None:
    assert notice_pdf.startswith(b"%PDF")
    t = text(notice_pdf)
    for needle in (
        "职业病危害综合风险评估结果公示",
        "乡宁县示例水泥有限公司",
        "91141029MA0GRT8U3L",
        "丙",
        "Ⅲ",
        "公示期：2023年6月2日至2023年6月8日",
        "异议联系人/电话：______",
        "日期：______",
    ):
        assert needle in t, needle


@pytest.mark.parametrize("name", ["A&B <示例> 水泥 \"有限\" 公司's", "&amp; <b>粗体</b> <br/> ]]> &#x41;"])
def test_user_text_is_escaped(name: str) -> None:
    report = make_report(name=name)
    result = make_result(report, enterprise_name=name, flags=[Flag(code="x", message=f"<{name}>")])
    squeezed = "".join(name.split())
    for pdf in (render_report_pdf(report, result), render_notice_pdf(report, result)):
        assert pdf.startswith(b"%PDF")
        assert squeezed in text(pdf)


def test_control_characters_in_user_text_are_dropped() -> None:
    report = make_report(name="示例\x01水泥\x0b公司")
    t = text(render_notice_pdf(report, make_result(report)))
    assert "示例水泥公司" in t


def test_same_input_same_bytes(report: Report, result: AssessmentClassified, report_pdf: bytes) -> None:
    assert render_report_pdf(report, result) == report_pdf


def test_an_agency_can_override_a_template(tmp_path: Path, report: Report, result: AssessmentClassified) -> None:
    (tmp_path / "notice.xml.j2").write_text(
        '<document title="公告"><h1>风险评估结果公告</h1><p>{{ enterprise.name }}：{{ result.category }}类</p></document>',
        encoding="utf-8",
    )
    t = text(render_notice_pdf(report, result, templates=tmp_path))
    assert "风险评估结果公告" in t and "乡宁县示例水泥有限公司：丙类" in t
    assert "用人单位职业病危害综合风险评估报告" in text(render_report_pdf(report, result, templates=tmp_path))


@pytest.mark.parametrize(
    "markup",
    [
        "<document><blink>x</blink></document>",
        "<document><p>a <i>b</i></p></document>",
        '<document><table widths="1,2"><tr><td>a</td></tr></table></document>',
        "<document><p>unclosed</document>",
        "<page/>",
    ],
)
def test_bad_markup_is_refused_with_a_reason(markup: str) -> None:
    with pytest.raises(MarkupError):
        markup_to_pdf(markup)


def test_every_text_of_the_templates_is_a_code_of_the_catalogue_in_both_languages() -> None:
    sources = [path.read_text(encoding="utf-8") for path in TEMPLATES.glob("*.xml.j2")]
    used = i18n.codes_in(sources, ["documents"])
    assert len(used) > 60
    missing = sorted(code for code in used if not i18n.has(code, i18n.ZH) or not i18n.has(code, i18n.EN))
    assert not missing, missing


def test_the_templates_write_no_chinese_of_their_own_outside_their_codes() -> None:
    for path in TEMPLATES.glob("*.xml.j2"):
        markup = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)  # comments may explain in Chinese
        markup = re.sub(r"\{[{%].*?[%}]\}", "", markup, flags=re.S)  # expressions name terms (甲, 丙, 符合) as data
        assert not re.search(r"[\u3400-\u9fff]", markup), f"{path.name}: Chinese outside a catalogue code"


def test_a_later_english_rendering_needs_only_a_locale(report: Report, result: AssessmentClassified) -> None:
    """The PDF is Chinese only; the labels are codes, so the English texts are one argument away."""
    markup = render_markup("notice.xml.j2", report, result, locale=i18n.EN)
    assert "Comprehensive risk category" in markup and "Posted from 2023-06-02 to 2023-06-08." in markup
    rest = markup.replace(report.enterprise.name, "")
    untranslated = re.findall(r"[\u3400-\u9fff]+(?! \()", rest)  # a Chinese term is followed by its translation
    assert not untranslated, untranslated
