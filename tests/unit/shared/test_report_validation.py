"""The 422 answer of the HTTP APIs: every problem, each naming the exact field at fault.

The apps are built by their real ``bootstrap`` but the TestClient is not entered as a context
manager, so the lifespan (Kafka, database) never runs: a rejected request must not need either.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.assessment.bootstrap import bootstrap as assessment_bootstrap
from services.assessment.domain.report_rules import report_problems
from services.penalty.bootstrap import bootstrap as penalty_bootstrap
from shared.contracts import Report
from tests.examples import EXAMPLE_REPORT
from tests.support import auth
from shared.migrations import upgrade
from shared.settings import settings_for


FUTURE = (date.today() + timedelta(days=30)).isoformat()
Path = tuple[str | int, ...]


def mutated(base: dict[str, Any], *changes: tuple[Path, Any]) -> dict[str, Any]:
    body = copy.deepcopy(base)
    for path, value in changes:
        target = body
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return body


def fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.fixture(scope="module")
def assessment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = settings_for("assessment", data_dir=tmp_path_factory.mktemp("assessment"))
    app = assessment_bootstrap(settings, create_topics=False)
    upgrade("assessment", app.state.runtime.engine)  # the tables (the jurisdiction check reads the archive's projection)
    yield TestClient(app, headers=auth("province"))  # not entered: no lifespan


@pytest.fixture(scope="module")
def penalty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = settings_for("penalty", data_dir=tmp_path_factory.mktemp("penalty"))
    app = penalty_bootstrap(settings, create_topics=False)
    upgrade("penalty", app.state.runtime.engine)
    yield TestClient(app, headers=auth("province"))


def test_the_example_report_is_a_valid_and_coherent_report() -> None:
    report = Report.model_validate(EXAMPLE_REPORT)
    assert report_problems(report, today=date(2024, 1, 1)) == []


# ---------------------------------------------------------------------------- assessment /reports

FIELD_CASES = [
    pytest.param((("enterprise", "credit_code"), "91141029MA0GRT8U3M"), "enterprise.credit_code", id="wrong check character"),
    pytest.param((("enterprise", "region_code"), "141000"), "enterprise.region_code", id="city not county"),
    pytest.param((("hazards",), []), "hazards", id="no hazard"),
    pytest.param((("hazards", 0, "exposed"), -1), "hazards[0].exposed", id="negative exposed"),
    pytest.param((("self_check", "score"), 120), "self_check.score", id="score over 100"),
    pytest.param((("publicity", "end"), "2023-06-01"), "publicity", id="publicity ends before it starts"),
    pytest.param((("sealed",), False), "sealed", id="not sealed"),
]

CONSISTENCY_CASES = [
    pytest.param((("assessed_on",), FUTURE), "assessed_on", id="assessed in the future"),
    pytest.param((("hazards", 0, "exposed"), 87), "hazards[0].exposed", id="more exposed than employees"),
    pytest.param((("hazards", 0, "tested_on"), "2023-06-05"), "hazards[0].tested_on", id="tested after assessment"),
    pytest.param((("publicity", "start"), "2023-05-31"), "publicity.start", id="posted before assessment"),
]


@pytest.mark.parametrize(("change", "field"), FIELD_CASES + CONSISTENCY_CASES)
def test_a_bad_report_is_rejected_with_422_naming_the_field(assessment: TestClient, change: tuple[Path, Any], field: str) -> None:
    response = assessment.post("/reports", json=mutated(EXAMPLE_REPORT, change))
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert field in fields(response), body
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}
        assert error["code"].startswith("errors.") or error["code"].startswith("assessment.")
        assert error["message"] and not error["message"].startswith("Value error")


def test_the_credit_code_error_explains_the_check_character(assessment: TestClient) -> None:
    response = assessment.post("/reports", json=mutated(EXAMPLE_REPORT, (("enterprise", "credit_code"), "91141029MA0GRT8U3M")))
    [error] = [e for e in response.json()["errors"] if e["field"] == "enterprise.credit_code"]
    assert error["code"] == "errors.credit_code.check_character"
    assert error["message"] == "统一社会信用代码校验码为 'M'，按 GB 32100 由前 17 位计算应为 'L'"


def test_every_field_problem_of_a_report_is_reported_at_once(assessment: TestClient) -> None:
    body = mutated(
        EXAMPLE_REPORT,
        (("enterprise", "credit_code"), "91141029MA0GRT8U3M"),
        (("enterprise", "region_code"), "991029"),
        (("hazards", 1, "exposed"), -5),
        (("sealed",), False),
    )
    response = assessment.post("/reports", json=body)
    assert response.status_code == 422
    assert set(fields(response)) >= {"enterprise.credit_code", "enterprise.region_code", "hazards[1].exposed", "sealed"}


def test_every_consistency_problem_of_a_report_is_reported_at_once(assessment: TestClient) -> None:
    body = mutated(
        EXAMPLE_REPORT,
        (("hazards", 0, "exposed"), 87),
        (("hazards", 1, "tested_on"), "2023-06-05"),
        (("publicity", "start"), "2023-05-31"),
    )
    response = assessment.post("/reports", json=body)
    assert response.status_code == 422
    assert set(fields(response)) == {"hazards[0].exposed", "hazards[1].tested_on", "publicity.start"}


# ---------------------------------------------------------------------------- penalty /violations

VIOLATION = {
    "credit_code": "91141029MA0GRT8U3L",
    "item_code": "70-4",
    "found_on": "2024-03-01",
    "harm": "minor",
    "corrected_on": "2024-03-05",
    "rectification_deadline": "2024-03-10",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param((("credit_code",), "91141029MA0GRT8U3M"), "credit_code", id="bad credit code"),
        pytest.param((("harm",), "catastrophic"), "harm", id="unknown harm"),
        pytest.param((("item_code",), "abc"), "item_code", id="item code not article-item"),
        pytest.param((("corrected_on",), "2024-02-28"), "corrected_on", id="corrected before found"),
        pytest.param((("found_on",), FUTURE), "found_on", id="found in the future"),
    ],
)
def test_a_bad_violation_is_rejected_with_422_naming_the_field(penalty: TestClient, change: tuple[Path, Any], field: str) -> None:
    response = penalty.post("/violations", json=mutated(VIOLATION, change))
    assert response.status_code == 422, response.text
    assert field in fields(response), response.json()
    assert all(set(e) == {"field", "code", "message"} for e in response.json()["errors"])


def test_every_field_problem_of_a_violation_is_reported_at_once(penalty: TestClient) -> None:
    body = mutated(VIOLATION, (("credit_code",), "9114102"), (("harm",), "catastrophic"), (("item_code",), "abc"))
    response = penalty.post("/violations", json=body)
    assert response.status_code == 422
    assert set(fields(response)) == {"credit_code", "harm", "item_code"}
