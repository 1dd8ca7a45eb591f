"""Chinese first (issue 14), as the people who read the penalty service meet it.

An employer's second report discloses four shortcomings; the county screens it against 附件5. The county
supervisor reads every outcome, reason and trace line in Chinese, with no English sentence in it; a
colleague reading English gets faithful English sentences, where Chinese appears only as a domain term
with its translation beside it, or as what the rule data and the report themselves say (a law's article,
the 附件5 wording, the report's own words: quoted as written). A case judged and taken through its steps
reads the same way. Every message code used has both texts; a screening announced before codes existed
still reads as it was written; and a refusal of each of the penalty, sampling and notification services
answers in Chinese, or in English for ``Accept-Language: en``, with the same code beside the text.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.notification.bootstrap import bootstrap as notification_service
from services.penalty.bootstrap import bootstrap as penalty_service
from services.penalty.service_layer import handlers, screening
from services.sampling.bootstrap import bootstrap as sampling_service
from shared import i18n
from shared.contracts import CaseProgressed, PenaltyDecided, ScreeningRecorded, ScreeningResult, TraceEntry, ViolationRecorded
from shared.dates import china_today
from tests.support import app_without_broker, auth, new_credit_code
from tests.unit.penalty.fakes import FakeUnitOfWork
from tests.unit.penalty.test_screening import RULES, classified_on, progressed, screened

HAN = re.compile(r"[\u3400-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
RECORDED = Path(__file__).resolve().parents[1] / "shared" / "data" / "events"
DOMAINS = ("penalty", "sampling", "notification")


# --------------------------------------------------------------------------- how a reader's eye is checked


def values(params: dict[str, Any]) -> Iterator[Any]:
    for value in params.values():
        yield from (value if isinstance(value, list) else [value])


def unquoted(text: str, params: dict[str, Any], locale: str) -> str:
    """The text without the values it quotes (as written, as a date, or as a term with its translation): what the
    catalogue's sentence itself says."""
    forms = {form for value in values(params) if value not in (None, "")
             for form in (str(value), i18n.local_date(value, locale), i18n.term(value, locale))}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, " ")
    return text


def said(code: str | None, params: dict[str, Any], locale: str) -> str:
    assert code and i18n.has(code, i18n.ZH) and i18n.has(code, i18n.EN), f"{code}: no text in both languages"
    return i18n.text(code, params, locale)


def reads_as_chinese(text: str, params: dict[str, Any]) -> None:
    """A Chinese sentence, and no English word outside what it quotes."""
    assert HAN.search(text), text
    assert not ENGLISH_WORD.search(unquoted(text, params, i18n.ZH)), f"English in the Chinese text: {text!r}"


def reads_as_english(text: str, params: dict[str, Any]) -> None:
    """An English sentence, Chinese only in a term beside its translation or in what it quotes."""
    assert ENGLISH_WORD.search(text), text
    assert not HAN.search(unquoted(text, params, i18n.EN)), f"a Chinese sentence in the English text: {text!r}"


def lines(result: ScreeningResult) -> Iterable[tuple[str | None, dict[str, Any]]]:
    """Everything a screening result says to a person: its outcome, reasons, the earlier finding, its trace."""
    yield result.code, result.params
    yield from ((m.code, m.params) for m in result.reason_codes)
    if result.earlier_message is not None:
        yield result.earlier_message.code, result.earlier_message.params
    yield from ((t.code, t.params) for t in result.trace)


def rule_in_english(entry: TraceEntry) -> str:
    """The rule a line cites, in English: the Chinese citation with its translation beside it."""
    rule = i18n.term(entry.rule, i18n.EN)
    assert rule != entry.rule and rule.startswith(entry.rule), f"the rule {entry.rule!r} has no English term"
    return rule


# --------------------------------------------------------------------------- the story: a report screened a second time


@pytest.fixture
def second_report() -> tuple[ScreeningRecorded, ScreeningRecorded]:
    """An employer put 自查表 4.3 right after its first report (corrected 2024-03-08, in time); a year later its
    second report discloses 4.3 again, the fund (1.6), an out-of-date 矽尘 test and a short 公示."""
    uow = FakeUnitOfWork()
    code = new_credit_code("141029")
    first = screened(uow, classified_on(date(2024, 3, 1), code, lost=("4.3",)))
    screening.record_rectification(uow, progressed(first, "cleared", "cleared", date(2024, 3, 11), corrected_on=date(2024, 3, 8),
                                                   corrected_in_time=True))
    second = screened(uow, classified_on(date(2025, 3, 3), code, lost=("4.3", "1.6"), expired=("矽尘",), flags=("publicity_short",)))
    return first, second


def test_the_county_supervisor_reads_the_screening_in_chinese(second_report: tuple[ScreeningRecorded, ScreeningRecorded]) -> None:
    first, second = second_report
    repeat, fund, silica, publicity = second.results
    deadline = i18n.local_date(repeat.deadline)
    assert deadline == "2025年3月17日"

    assert repeat.outcome == "not_eligible" and repeat.text() == "不适用首违不罚（非初次违法）；仍请于2025年3月17日前改正"
    assert repeat.reasons == [f"非初次违法：报告 {first.submission_id} 的先前筛查（2024年3月1日），已于2024年3月8日改正"]
    assert repeat.earlier == f"报告 {first.submission_id} 的先前筛查（2024年3月1日），已于2024年3月8日改正"
    assert fund.outcome == "no_violation" and fund.text() == "不构成违法：仅提出整改建议，无须处罚；仍列为整改事项，请于2025年3月17日前改正"
    assert silica.reasons == ["不在附件5清单内（职业病防治法 第七十二条第(四)项）"]
    assert publicity.outcome == "no_violation"
    assert [t.rule for t in repeat.trace] == ["自报问题", "违法行为对照表", "附件5 首次轻微违法行为不予处罚清单", "初次违法", "初次违法",
                                             "危害后果", "重大违法", "责令限期改正", "筛查结论"]

    for result in second.results:
        assert result.trace[-1].detail == result.text(), "the outcome is the trace's last line"
        for code, params in lines(result):
            reads_as_chinese(said(code, params, i18n.ZH), params)
        for entry in result.trace:
            assert entry.detail == entry.text() == entry.text(i18n.ZH), "the detail written is the Chinese text"
            assert not ENGLISH_WORD.search(entry.rule), entry.rule


def test_a_colleague_reads_the_same_screening_in_english_with_chinese_terms_beside_their_translation(
        second_report: tuple[ScreeningRecorded, ScreeningRecorded]) -> None:
    first, second = second_report
    repeat, fund, silica, _ = second.results

    assert repeat.text(i18n.EN) == "not eligible for no penalty (非初次违法 (not a first violation)); correct it by 2025-03-17 all the same"
    assert repeat.reason_texts(i18n.EN) == [f"repeat: earlier screening of report {first.submission_id} (2024-03-01), corrected on 2024-03-08"]
    assert fund.text(i18n.EN) == "no violation: a recommendation only, nothing to penalise; a rectification item all the same, by 2025-03-17"
    assert silica.reason_texts(i18n.EN) == ["not on the Annex 5 list (职业病防治法 第七十二条第(四)项)"]  # the law cited as written

    for result in second.results:
        for code, params in lines(result):
            reads_as_english(said(code, params, i18n.EN), params)
        for entry in result.trace:  # a line as an English reader sees it: the rule cited, then what it decided
            reads_as_english(f"{rule_in_english(entry)}: {entry.text(i18n.EN)}", {**entry.params, "rule": entry.rule})


def test_a_case_judged_and_taken_through_its_steps_reads_in_both_languages() -> None:
    uow = FakeUnitOfWork()
    code = new_credit_code("141029")
    first = ViolationRecorded(producer="sampling", credit_code=code, case_id=uuid.uuid4(), item_code="70-4", found_on=date(2024, 5, 6),
                              harm="none", corrected_on=date(2024, 5, 6), rectification_deadline=None)
    handlers.decide_case(uow, first, RULES)  # found and corrected on the spot: no penalty
    again = ViolationRecorded(producer="sampling", credit_code=code, case_id=uuid.uuid4(), item_code="70-4", found_on=date(2025, 5, 6),
                              harm="serious", corrected_on=None, rectification_deadline=None)
    handlers.decide_case(uow, again, RULES)  # a year later, with serious harm: penalty

    decided = uow.events(PenaltyDecided)[-1]
    earlier = uow.cases.get(str(first.case_id))
    assert earlier is not None and decided.decision == "penalty"
    assert decided.reasons == [f"非初次违法：案件 {earlier.case_code}已于2024年5月6日查处同一事项", "危害后果为严重；仅危害后果为无、轻微的可不予处罚"]
    assert decided.reason_texts(i18n.EN) == [f"not the first time: case {earlier.case_code} found the same item on 2024-05-06",
                                             "harm was 严重 (serious); only 无 (none), 轻微 (minor) harm qualifies"]
    assert decided.trace[-2].detail == "予以处罚：非初次违法、危害后果不属轻微"
    steps = [e for e in uow.events(CaseProgressed)]
    assert [s.text() for s in steps if s.case_id == again.case_id][1:] == [
        "决定予以处罚：非初次违法、危害后果不属轻微", "职业病防治法 第七十条，造成危害后果：60000–100000元（裁量基准 CN v2021.1）"]

    said_to_people = [(m.code, m.params) for m in decided.reason_codes] + [(t.code, t.params) for t in decided.trace] + \
        [(s.code, s.params) for s in steps]
    for code, params in said_to_people:
        reads_as_chinese(said(code, params, i18n.ZH), params)
        reads_as_english(said(code, params, i18n.EN), params)
    for step in steps:
        assert step.detail == step.text(), "the step's detail is its Chinese text"


def test_every_message_of_the_three_services_has_both_languages_with_the_same_values() -> None:
    for domain in DOMAINS:
        zh = i18n.domain_messages(i18n.LOCALES_DIR / i18n.ZH / "LC_MESSAGES" / f"{domain}.po")
        en = i18n.domain_messages(i18n.LOCALES_DIR / i18n.EN / "LC_MESSAGES" / f"{domain}.po")
        assert zh and set(zh) == set(en), domain
        assert all(code.startswith(f"{domain}.") for code in zh), domain
        for code in zh:
            assert i18n.placeholders(zh[code]) == i18n.placeholders(en[code]), code
            assert HAN.search(zh[code]) or code.endswith(("draw_problem",)), f"{code}: the Chinese text is not Chinese"
            assert not HAN.search(en[code]), f"{code}: Chinese in the English text"


# --------------------------------------------------------------------------- what was announced before codes existed


def test_a_screening_announced_before_codes_existed_still_reads_as_it_was_written() -> None:
    payload = json.loads((RECORDED / "ohs.penalty.screened.json").read_text(encoding="utf-8"))
    recorded = ScreeningRecorded.model_validate(payload)

    for result, written in zip(recorded.results, payload["results"], strict=True):
        assert result.code is None and result.reason_codes == [] and result.earlier_message is None
        assert result.text(i18n.ZH) == result.text(i18n.EN) == written["trace"][-1]["detail"]
        assert result.reason_texts(i18n.EN) == result.reasons == written["reasons"]
        assert result.earlier_text(i18n.EN) == written["earlier"]
        assert [t.text(i18n.EN) for t in result.trace] == [t["detail"] for t in written["trace"]]
    again = ScreeningRecorded.model_validate_json(recorded.model_dump_json())
    assert again == recorded, "read, written again and read: the same"


def test_a_decision_and_a_step_announced_before_codes_existed_read_as_written() -> None:
    decided = PenaltyDecided.model_validate_json((RECORDED / "ohs.penalty.decided.json").read_text(encoding="utf-8"))
    step = CaseProgressed.model_validate_json((RECORDED / "ohs.penalty.case-progressed.json").read_text(encoding="utf-8"))
    assert decided.reason_texts(i18n.EN) == decided.reasons and step.text(i18n.EN) == step.text() == step.detail


# --------------------------------------------------------------------------- refusals, in the reader's language


@pytest.fixture(scope="module")
def penalty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = app_without_broker(penalty_service, "penalty", tmp_path_factory.mktemp("penalty-chinese"))
    yield TestClient(app)
    app.state.runtime.engine.dispose()


@pytest.fixture(scope="module")
def sampling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = app_without_broker(sampling_service, "sampling", tmp_path_factory.mktemp("sampling-chinese"))
    yield TestClient(app)
    app.state.runtime.engine.dispose()


@pytest.fixture(scope="module")
def notification(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = app_without_broker(notification_service, "notification", tmp_path_factory.mktemp("notification-chinese"))
    yield TestClient(app)
    app.state.runtime.engine.dispose()


def refused_both_ways(client: TestClient, method: str, url: str, headers: dict[str, str], **request: Any) -> tuple[dict, dict]:
    """The same refused request answered by default (Chinese) and for ``Accept-Language: en``: the same status and code."""
    chinese = client.request(method, url, headers=headers, **request)
    english = client.request(method, url, headers={**headers, "Accept-Language": "en"}, **request)
    assert chinese.status_code == english.status_code >= 400, chinese.text
    assert chinese.json()["code"] == english.json()["code"]
    return chinese.json(), english.json()


def test_the_penalty_service_refuses_in_chinese_and_in_english_on_request(penalty: TestClient) -> None:
    county = auth("county", "141029", name="乡宁县 张三")
    found_on = (china_today() - timedelta(days=40)).isoformat()
    case = penalty.post("/violations", headers=county,
                        json={"credit_code": new_credit_code("141029"), "item_code": "70-4", "found_on": found_on, "harm": "none"}).json()

    chinese, english = refused_both_ways(penalty, "POST", f"/cases/{case['id']}/rectification-order", county, json={"ordered_on": found_on})
    assert chinese["code"] == "penalty.error.step_not_allowed"
    assert chinese["detail"] == "案件当前状态为已立案，不能进行责令限期改正；下一步可以：教育引导、告知承诺"
    assert english["detail"] == ("责令限期改正 (order to correct by a deadline) is not allowed: the case is 已立案 (opened); "
                                 "allowed next: 教育引导 (education and guidance), 告知承诺 (notice and commitment)")

    day_before = (china_today() - timedelta(days=41)).isoformat()
    chinese, english = refused_both_ways(penalty, "POST", f"/cases/{case['id']}/education", county, json={"on": day_before, "content": "讲解"})
    assert chinese["errors"] == [{"field": "on", "code": "penalty.error.day_before_finding", "message": chinese["detail"]}]
    assert chinese["detail"] == f"{i18n.local_date(day_before)}早于发现违法行为之日（{i18n.local_date(found_on)}）"
    assert english["errors"][0]["message"] == f"{day_before} is before the violation was found ({found_on})"

    chinese, english = refused_both_ways(penalty, "GET", "/cases/no-such-case", county)
    assert (chinese["detail"], english["detail"]) == ("没有案件 no-such-case", "no case no-such-case")


def test_the_sampling_service_refuses_in_chinese_and_in_english_on_request(sampling: TestClient) -> None:
    chinese, english = refused_both_ways(sampling, "GET", "/plans/no-such-plan", auth("county", "141024"))
    assert chinese["code"] == "sampling.error.plan_not_found"
    assert (chinese["detail"], english["detail"]) == ("没有抽查计划 no-such-plan", "no plan no-such-plan")

    chinese, english = refused_both_ways(sampling, "PUT", "/inspectors/141029", auth("county", "141024"), json={"inspectors": []})
    assert chinese["detail"] == "地区 141029 不在此县级令牌的管辖范围（141024）内"
    assert english["detail"] == "region 141029 is outside the jurisdiction of this 县 (county) token (141024)"


def test_the_notification_service_refuses_in_chinese_and_in_english_on_request(notification: TestClient) -> None:
    chinese, english = refused_both_ways(notification, "GET", "/inbox", auth("auditor"))
    assert chinese["code"] == "notification.error.inbox_not_for_role"
    assert chinese["detail"] == "收件箱供用人单位和监管执法人员使用，审计人员的令牌不能使用"
    assert english["detail"] == "the inbox is for employers and supervision staff, not a 审计人员 (auditor) token"

    chinese, english = refused_both_ways(notification, "POST", "/inbox/no-such-notification/read", auth("county", "141029"))
    assert (chinese["detail"], english["detail"]) == ("没有通知 no-such-notification", "no notification no-such-notification")
