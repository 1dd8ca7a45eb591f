"""Errors in Chinese: what an employer or a county supervisor reads when the platform says no.

Every refusal answers the one error body ``{"detail", "code", "errors": [{"field", "code", "message"}]}``:
the texts in Chinese (zh-CN) unless the request asks for English (``Accept-Language: en``), a stable
machine code beside each text, and ``Content-Language`` saying which language was written. The real
assessment and registry services answer here (built by their ``bootstrap``, SQLite, no broker).
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic_core._pydantic_core import list_all_errors
from sqlmodel import Session

from services.assessment.bootstrap import bootstrap as assessment_bootstrap
from services.registry.bootstrap import bootstrap as registry_bootstrap
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared import errors, i18n
from shared.identifiers import credit_code_problem
from tests.examples import EXAMPLE_REPORT
from tests.support import app_without_broker, auth, token_for
from tests.unit.registry.test_override_handlers import classified

HAN = re.compile(r"[\u3400-\u9fff]")
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}")  # two English words in a row: a sentence left untranslated
ENGLISH = {"Accept-Language": "en"}
EMPLOYER = EXAMPLE_REPORT["enterprise"]["credit_code"]  # 91141029MA0GRT8U3L, archived in 乡宁县 141029


def chinese(text: str) -> bool:
    """Written in Chinese: Chinese characters, and no English sentence (codes, numbers and UUIDs may stay)."""
    return bool(HAN.search(text)) and not ENGLISH_PHRASE.search(text)


def english(text: str) -> bool:
    return not HAN.search(text) and bool(ENGLISH_PHRASE.search(text) or re.search(r"[a-z]{3,}", text))


@pytest.fixture(scope="module")
def assessment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = app_without_broker(assessment_bootstrap, "assessment", tmp_path_factory.mktemp("assessment"))
    yield TestClient(app)
    app.state.runtime.engine.dispose()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = app_without_broker(registry_bootstrap, "registry", tmp_path_factory.mktemp("registry"))
    with Session(app.state.runtime.engine) as session:  # the employer's archive, in 乡宁县
        archive_classification(RegistryUnitOfWork.joining(session), classified("乙", date(2026, 6, 1), code=EMPLOYER))
        session.commit()
    yield TestClient(app)
    app.state.runtime.engine.dispose()


def a_careless_report() -> dict[str, Any]:
    """The example report as a hurried clerk might send it: a submission id that is no UUID, an employer name
    of 300 characters, no signature."""
    report = copy.deepcopy(EXAMPLE_REPORT)
    report["submission_id"] = "报告-2023-001"
    report["enterprise"]["name"] = "乡宁县示例水泥有限公司" * 30
    del report["signed_by"]
    return report


# --------------------------------------------------------------------------- a report refused field by field


def test_a_careless_report_is_refused_in_chinese_field_by_field_each_with_its_code(assessment: TestClient) -> None:
    response = assessment.post("/reports", json=a_careless_report(), headers=auth("county"))

    assert response.status_code == 422
    assert response.headers["content-language"] == "zh-CN" and "accept-language" in response.headers["vary"].lower()
    body = response.json()
    assert body["code"] == "errors.request.invalid" and chinese(body["detail"])
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("submission_id", "errors.field.uuid_parsing"),
        ("enterprise.name", "errors.field.string_too_long"),
        ("signed_by", "errors.field.missing"),
    }
    said = {e["field"]: e["message"] for e in body["errors"]}
    assert all(chinese(message) for message in said.values()), said
    assert said["enterprise.name"] == "最多 200 个字符"
    assert said["signed_by"] == "缺少必填项"
    assert said["submission_id"].startswith("不是有效的 UUID")


def test_the_same_report_with_accept_language_en_is_refused_in_english_with_the_same_codes(assessment: TestClient) -> None:
    chinese_answer = assessment.post("/reports", json=a_careless_report(), headers=auth("county")).json()
    response = assessment.post("/reports", json=a_careless_report(), headers=auth("county") | {"Accept-Language": "en-US,en;q=0.9"})

    assert response.status_code == 422 and response.headers["content-language"] == "en"
    body = response.json()
    assert body["code"] == chinese_answer["code"] and english(body["detail"])
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(e["field"], e["code"]) for e in chinese_answer["errors"]]
    said = {e["field"]: e["message"] for e in body["errors"]}
    assert all(english(message) for message in said.values()), said
    assert said["enterprise.name"] == "must be at most 200 characters long"
    assert said["signed_by"] == "required: this field is missing"


@pytest.mark.parametrize(("change", "field", "code", "zh", "en"), [
    pytest.param(("enterprise", "credit_code", "91141029MA0GRT8U3M"), "enterprise.credit_code", "errors.credit_code.check_character",
                 "统一社会信用代码校验码为 'M'，按 GB 32100 由前 17 位计算应为 'L'",
                 "check character is 'M' but GB 32100 gives 'L' for the first 17 characters", id="a wrong check character"),
    pytest.param(("enterprise", "region_code", "141000"), "enterprise.region_code", "errors.region_code.not_county",
                 "应为县级行政区划代码（如 141029），不能是省级或市级代码",
                 "must be a county-level division (e.g. 141029), not a province or city code", id="a city, not a county"),
    pytest.param(("assessed_on", None, "1900-01-01"), "assessed_on", "errors.field.date_from",
                 "不得早于 1949年10月1日", "must be 1949-10-01 or later", id="a date before 1949-10-01"),
    pytest.param(("assessed_on", None, "2023/06/01"), "assessed_on", "errors.field.date_format",
                 "日期应写作 YYYY-MM-DD（字符串），不能是数字或带时间的时间戳", "a date is written YYYY-MM-DD (a string), not a number or a timestamp",
                 id="a date written with slashes"),
    pytest.param(("hazards", 0, {"factor": "矽尘", "exposed": 24, "compliant": True, "nature": "很严重"}), "hazards[0].nature",
                 "errors.field.literal_error", "应为以下之一：严重、一般", "must be one of: 严重 (serious), 一般 (ordinary)",
                 id="a nature that is no term"),
    pytest.param(("sealed", None, False), "sealed", "errors.report.not_sealed", "评估报告须加盖用人单位公章",
                 "the report must carry the employer's seal", id="no seal"),
    pytest.param(("self_check", "score", 100.5), "self_check.score", "errors.field.less_than_equal", "应小于或等于 100",
                 "must be less than or equal to 100", id="a score over 100"),
    pytest.param(("enterprise", "employees", "86"), "enterprise.employees", "errors.field.int_type", "应为整数", "must be an integer",
                 id="a number written as text"),
])
def test_each_kind_of_mistake_is_said_in_chinese_and_in_english(
    assessment: TestClient, change: tuple[str, Any, Any], field: str, code: str, zh: str, en: str
) -> None:
    report = copy.deepcopy(EXAMPLE_REPORT)
    report["submission_id"] = str(uuid.uuid4())
    where, key, value = change
    if key is None:
        report[where] = value
    else:
        report[where][key] = value
    for headers, text in (({}, zh), (ENGLISH, en)):
        response = assessment.post("/reports", json=report, headers=auth("county") | headers)
        assert response.status_code == 422, response.text
        assert {"field": field, "code": code, "message": text} in response.json()["errors"], response.json()


def test_a_body_that_is_not_json_and_an_unknown_field_are_named_too(assessment: TestClient) -> None:
    broken = assessment.post("/reports", content=b'{"enterprise": ', headers=auth("county") | {"content-type": "application/json"})
    assert broken.status_code == 422
    [error] = broken.json()["errors"]
    assert (error["field"], error["code"]) == ("(body)", "errors.field.json_invalid") and chinese(error["message"])

    report = copy.deepcopy(EXAMPLE_REPORT) | {"remarks": "无"}
    extra = assessment.post("/reports", json=report, headers=auth("county") | ENGLISH).json()["errors"]
    assert {"field": "remarks", "code": "errors.field.extra_forbidden", "message": "not a field this request takes (check its name)"} in extra


# --------------------------------------------------------------------------- who is asking: 401 and 404


def test_a_garbage_token_is_refused_in_chinese_with_a_code(assessment: TestClient) -> None:
    response = assessment.get(f"/reports/{uuid.uuid4()}", headers={"Authorization": "Bearer not-a-token.at-all"})

    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-language"] == "zh-CN"
    assert response.json() == {"detail": "身份令牌无效：不是本平台签发的令牌", "code": "errors.auth.token_malformed", "errors": []}
    expired = assessment.get(f"/reports/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token_for('county', valid_days=-1)}"} | ENGLISH)
    assert expired.status_code == 401 and expired.json()["code"] == "errors.auth.token_expired"
    assert expired.json()["detail"] == "invalid token: expired" and expired.headers["content-language"] == "en"
    missing = assessment.get(f"/reports/{uuid.uuid4()}")
    assert missing.status_code == 401 and missing.json()["code"] == "errors.auth.token_required" and chinese(missing.json()["detail"])


def test_another_countys_employer_is_not_found_in_chinese_exactly_like_one_that_does_not_exist(registry: TestClient) -> None:
    hongdong = auth("county", "141024")  # 洪洞县: not the employer's county

    outside = registry.get(f"/enterprises/{EMPLOYER}", headers=hongdong)
    nobody = "91141024MA0000000" + "X"
    nobody = nobody if credit_code_problem(nobody) is None else nobody[:17] + credit_code_problem(nobody).params["expected"].strip("'")
    missing = registry.get(f"/enterprises/{nobody}", headers=hongdong)

    assert outside.status_code == missing.status_code == 404
    assert outside.headers["content-language"] == "zh-CN"
    assert outside.json() == {"detail": f"未找到统一社会信用代码为 {EMPLOYER} 的用人单位档案", "code": "errors.archive.not_found", "errors": []}
    assert missing.json()["detail"].replace(nobody, EMPLOYER) == outside.json()["detail"], "a scope cannot be probed by its answer"
    assert registry.get(f"/enterprises/{EMPLOYER}", headers=auth("county")).status_code == 200, "its own county reads it"
    in_english = registry.get(f"/enterprises/{EMPLOYER}", headers=hongdong | ENGLISH)
    assert in_english.json()["detail"] == f"no archive for {EMPLOYER}" and in_english.headers["content-language"] == "en"


def test_a_refusal_about_one_query_parameter_names_it(registry: TestClient) -> None:
    response = registry.get("/enterprises", params={"region_code": "99"}, headers=auth("province"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "region_code", "code": "errors.region_code.format", "message": "应为 6 位数字的 GB/T 2260 行政区划代码"}]
    outside = registry.get("/enterprises", params={"region_code": "140000"}, headers=auth("county") | ENGLISH)
    assert outside.status_code == 403 and outside.json()["code"] == "errors.auth.region_outside_jurisdiction"
    assert outside.json()["detail"] == "region_code 140000 is outside the jurisdiction of this token (141029)"


def test_a_step_the_records_state_does_not_allow_is_a_409_that_says_why_in_chinese(registry: TestClient) -> None:
    exemption = {"valid_from": "2030-01-01", "valid_until": "2030-12-31", "reason": "信用评价为A级", "basis": "晋卫信〔2029〕1号"}
    assert registry.post(f"/enterprises/{EMPLOYER}/exemptions", json=exemption, headers=auth("county")).status_code == 201

    overlapping = registry.post(f"/enterprises/{EMPLOYER}/exemptions", json=exemption | {"valid_from": "2030-06-01"}, headers=auth("county"))

    assert overlapping.status_code == 409 and overlapping.json()["code"] == "errors.exemption.overlaps"
    assert chinese(overlapping.json()["detail"]) and "2030年1月1日至2030年12月31日" in overlapping.json()["detail"]
    backwards = registry.post(f"/enterprises/{EMPLOYER}/exemptions", json=exemption | {"valid_until": "2029-12-31"}, headers=auth("county") | ENGLISH)
    assert backwards.status_code == 422 and backwards.json()["errors"] == [{
        "field": "valid_until", "code": "errors.exemption.ends_before_start", "message": "valid_until 2029-12-31 is before valid_from 2030-01-01"}]


# --------------------------------------------------------------------------- the catalogue holds every code the handler gives


def test_every_pydantic_error_renders_from_the_catalogue_in_both_languages_with_every_value_filled_in() -> None:
    for known in list_all_errors():
        item = {"type": known["type"], "loc": ("body", "x"), "msg": known["example_message_python"], "ctx": known["example_context"]}
        issue = errors.issue_of(item)
        assert i18n.has(issue.code, i18n.ZH) and i18n.has(issue.code, i18n.EN), known["type"]
        view = issue.view(i18n.ZH)
        assert view["code"] == issue.code
        if issue.code != errors.INVALID_FIELD:  # a type of its own: no value left unwritten
            for locale in i18n.LOCALES:
                assert "{" not in issue.message(locale), (known["type"], locale, issue.message(locale))


def test_every_code_the_handlers_and_the_status_fallbacks_can_give_is_in_both_languages() -> None:
    codes = {*errors.PYDANTIC_CODES.values(), *errors._DATE_BOUNDS.values(), *errors.STATUS_CODES.values(),
             errors.GENERIC_STATUS_CODE, errors.INVALID_REQUEST, errors.INVALID_FIELD, "errors.field.or", "errors.conflict.concurrent"}
    errors_po = {locale: i18n.domain_messages(i18n.LOCALES_DIR / locale / "LC_MESSAGES" / "errors.po") for locale in i18n.LOCALES}
    assert codes <= set(errors_po[i18n.ZH]) and codes <= set(errors_po[i18n.EN])
    assert set(errors_po[i18n.ZH]) == set(errors_po[i18n.EN])
    for code, text in errors_po[i18n.ZH].items():
        assert HAN.search(text), f"{code}: the Chinese text {text!r} has no Chinese"


def test_a_value_tried_against_each_member_of_a_union_is_one_problem_said_both_ways() -> None:
    tries = [{"type": "float_type", "loc": ("body", "self_check", "items", "2.1", "constrained-float"), "msg": "Input should be a valid number"},
             {"type": "literal_error", "loc": ("body", "self_check", "items", "2.1", "literal['n/a']"), "msg": "Input should be 'n/a'",
              "ctx": {"expected": "'n/a'"}}]
    [issue] = errors.validation_issues(tries)
    assert (issue.field, issue.code) == ("self_check.items.2.1", "errors.field.float_type")
    assert issue.message(i18n.ZH) == "应为数字；或者应为以下之一：n/a"
    assert issue.message(i18n.EN) == "must be a number; or: must be one of: n/a"


def test_a_refusal_still_said_in_plain_words_keeps_them_with_the_code_of_its_status() -> None:
    """A route not yet said with codes (``HTTPException("…")``) answers the one body all the same."""
    app = FastAPI()
    errors.install(app)

    @app.get("/plain")
    async def plain() -> None:
        raise HTTPException(status_code=409, detail="the item changed meanwhile")

    @app.get("/field")
    async def field() -> None:
        raise HTTPException(status_code=422, detail="region_code: must be a 6-digit code")

    client = TestClient(app)
    assert client.get("/plain").json() == {"detail": "the item changed meanwhile", "code": "errors.http.conflict", "errors": []}
    assert client.get("/field").json()["errors"] == [{"field": "region_code", "code": "errors.field.invalid", "message": "must be a 6-digit code"}]
    nowhere = client.get("/nowhere")
    assert nowhere.json() == {"detail": "未找到请求的资源", "code": "errors.http.not_found", "errors": []}
    assert client.get("/nowhere", headers=ENGLISH).json()["detail"] == "not found"


def test_the_openapi_documents_the_codes_and_the_language_of_every_error(assessment: TestClient) -> None:
    schema = assessment.get("/openapi.json").json()
    body, field = schema["components"]["schemas"]["ErrorBody"], schema["components"]["schemas"]["FieldError"]
    assert {"detail", "code", "errors"} <= set(body["properties"]) and {"field", "code", "message"} <= set(field["properties"])
    assert "errors.request.invalid" in body["properties"]["code"]["description"]
    refused = schema["paths"]["/reports"]["post"]["responses"]["422"]
    assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert refused["headers"]["Content-Language"]["schema"]["enum"] == ["zh-CN", "en"]

