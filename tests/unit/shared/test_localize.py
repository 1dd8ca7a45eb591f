"""A JSON answer is re-rendered in English for a reader asking for it; Chinese readers get it untouched."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared import i18n
from shared.contracts import TraceEntry
from shared.contracts.assessment import Flag
from shared.localize import LocalizedAnswers, localized

ENTRY = TraceEntry.of("附件3 综合风险类别", "assessment.trace.matrix", hazard="Ⅲ", management="B", category="丙")
FLAG = Flag(code="submission_late", message="旧文字", params={})


def test_coded_texts_are_rendered_in_english_and_everything_else_is_left_as_it_is():
    answer = {"enterprise_name": "乡宁县示例水泥有限公司", "trace": [ENTRY.model_dump(), {"rule": "r", "detail": "无代码的文字"}],
              "code": "91141029MA0GRT8U3L", "params": "not a dict"}
    english = localized(answer, i18n.EN)
    assert english["trace"][0]["detail"] == ENTRY.text(i18n.EN) != ENTRY.detail
    assert english["trace"][1]["detail"] == "无代码的文字" and english["enterprise_name"] == answer["enterprise_name"]
    assert english["code"] == answer["code"]


def test_the_middleware_answers_english_on_request_and_chinese_byte_for_byte_otherwise():
    app = FastAPI()

    @app.get("/thing")
    def thing() -> dict:
        return {"trace": [ENTRY.model_dump()], "flags": [FLAG.model_dump()]}

    app.add_middleware(LocalizedAnswers)
    client = TestClient(app)
    chinese = client.get("/thing")
    assert chinese.json()["trace"][0]["detail"] == ENTRY.detail and "丙" in ENTRY.detail
    english = client.get("/thing", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.status_code == 200 and english.json()["trace"][0]["detail"] == ENTRY.text(i18n.EN)
    assert int(english.headers["content-length"]) == len(english.content)
    assert english.json()["flags"][0]["message"] == "旧文字"  # a flag without its values renders as written
