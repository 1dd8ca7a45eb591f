"""What the console's report form asks the assessment service (issue 15): the rule data a form is built from
(``GET /rules/report-form``), a preview of the classification that keeps nothing (``POST /reports:preview``,
with a running score while the checklist is being answered), and the submissions a caller may read
(``GET /reports``). Told through the HTTP API of the real app on SQLite, and the preview once more on the
fake unit of work."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from services.assessment.adapters.orm import Submission
from services.assessment.adapters.rules import load_assessment_rules, load_rule_book
from services.assessment.bootstrap import bootstrap
from services.assessment.domain.checklist import score_checklist
from services.assessment.domain.classifier import Classified, classify
from services.assessment.domain.rules import CHECKLIST_TOTAL
from services.assessment.service_layer import handlers
from shared import i18n
from shared.auth import Principal
from shared.contracts import Report, ReportSubmitted
from shared.db import OutboxMessage
from tests.examples import EXAMPLE_REPORT
from tests.support import app_without_broker, auth, new_credit_code, report_for
from tests.unit.assessment.fakes import FakeUnitOfWork

EMPLOYER = EXAMPLE_REPORT["enterprise"]["credit_code"]  # 乡宁县 141029
ASSESSED_ON = date.fromisoformat(EXAMPLE_REPORT["assessed_on"])
NATIONAL_2022 = load_rule_book().for_region("141029", ASSESSED_ON)
CHECKLIST = NATIONAL_2022.self_check_checklist


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = app_without_broker(bootstrap, "assessment", tmp_path)
    yield TestClient(app)
    app.state.runtime.engine.dispose()


def kept(client: TestClient) -> tuple[int, int]:
    """(submissions stored, messages in the outbox)."""
    with client.app.state.runtime.uow() as uow:  # type: ignore[attr-defined]
        return (uow.session.exec(select(func.count()).select_from(Submission)).one(),
                uow.session.exec(select(func.count()).select_from(OutboxMessage)).one())


def example(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["submission_id"] = str(uuid.uuid4())
    data.update(changes)
    return data


def answered(upto: int | None = None, **special: float | str) -> dict[str, float | str]:
    """Full points on the first ``upto`` checklist items (all by default), ``special`` ones as given (1_2 for item 1.2)."""
    items = CHECKLIST.items()[:upto]
    answers: dict[str, float | str] = {item.id: item.points for item in items}
    answers.update({key.replace("_", "."): value for key, value in special.items()})
    return answers


# --------------------------------------------------------------------------- GET /rules/report-form


def test_the_form_lists_the_checklist_and_catalogue_of_the_rule_data_in_force(client: TestClient) -> None:
    answer = client.get("/rules/report-form", params={"region_code": "141029", "on": "2023-06-01"}, headers=auth("employer", EMPLOYER))

    assert answer.status_code == 200, answer.text
    form = answer.json()
    assert form["rule_set"] == {"jurisdiction": "CN", "version": "2022.1", "effective_from": "2022-11-01", "provisional": True,
                                "source": NATIONAL_2022.source}
    items = form["checklist"]["items"]
    assert [(i["id"], i["section"], i["text"], i["points"], i["veto"]) for i in items] == [
        (item.id, section.id, item.title, item.points, item.veto) for section in CHECKLIST.sections for item in section.items]
    assert all(i["na_allowed"] for i in items), "the rule lets any item be answered n/a (removed from both sides)"
    assert sum(Decimal(str(i["points"])) for i in items) == CHECKLIST_TOTAL == Decimal(str(form["checklist"]["total_points"]))
    assert [s["id"] for s in form["checklist"]["sections"]] == [s.id for s in CHECKLIST.sections]
    assert {"name": "矽尘", "nature": "严重"} in form["factor_catalogue"]["factors"]
    assert len(form["factor_catalogue"]["factors"]) == len(NATIONAL_2022.factor_catalogue.factors)
    assert form["silica_threshold_percent"] == NATIONAL_2022.silica_threshold_percent
    assert [b["grade"] for b in form["management_bands"]] == ["A", "B", "C"]


def test_the_form_refuses_a_region_that_is_no_county_and_a_day_without_rule_data(client: TestClient) -> None:
    county = auth("county", "141029")

    for bad in ("141000", "14102", "1410290000000"):
        refused = client.get("/rules/report-form", params={"region_code": bad}, headers=county)
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["region_code"], refused.text
    before = client.get("/rules/report-form", params={"region_code": "141029", "on": "2020-01-01"}, headers=county)
    assert before.status_code == 404 and before.json()["code"] == "errors.rules.not_in_force"
    assert "2020年1月1日" in before.json()["detail"]
    english = client.get("/rules/report-form", params={"region_code": "141029", "on": "2020-01-01"}, headers={**county, "Accept-Language": "en"})
    assert english.json()["detail"] == "no classification rule data (Annexes 1–3) is in force for region 141029 on 2020-01-01"
    assert client.get("/rules/report-form", params={"region_code": "141029"}).status_code == 401


# --------------------------------------------------------------------------- POST /reports:preview


def test_a_preview_classifies_the_example_report_as_the_classifier_does_and_keeps_nothing(client: TestClient) -> None:
    report = example()
    expected = classify(Report.model_validate(report), NATIONAL_2022)
    assert isinstance(expected, Classified)

    answer = client.post("/reports:preview", json=report, headers=auth("employer", EMPLOYER))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"] == "classified" and "reasons" not in body
    result = body["result"]
    assert (result["category"], result["hazard_grade"], result["management_grade"], result["score"]) == (
        expected.category, expected.hazard_grade, expected.management_grade, expected.score) == ("丙", "Ⅲ", "B", 82.5)
    assert [(t["rule"], t["detail"], t["code"]) for t in result["trace"][:len(expected.trace)]] == [
        (t.rule, t.detail, t.code) for t in expected.trace], "the classifier's own trace, then the deadline check's"
    assert result["rule_set"] == {"jurisdiction": "CN", "version": "2022.1", "effective_from": "2022-11-01", "provisional": True}
    assert result["submission_id"] == report["submission_id"] and "event_id" not in result
    assert "submission_late" in [f["code"] for f in result["flags"]], "received today, years after its 公示: late, as the pipeline says"
    assert [s["kind"] for s in result["shortcomings"]] and "lost_points" in result

    assert kept(client) == (0, 0), "nothing stored, nothing in the outbox"
    assert client.get(f"/reports/{report['submission_id']}", headers=auth("employer", EMPLOYER)).status_code == 404


def test_the_preview_runs_the_use_case_without_committing_or_publishing() -> None:
    uow = FakeUnitOfWork()
    itself = Principal(subject="e1", name="乡宁县示例水泥", role="employer", credit_code=EMPLOYER)

    preview = handlers.preview_report(uow, Report.model_validate(example()), itself, date(2023, 6, 12), load_assessment_rules())

    assert preview.category == "丙"  # type: ignore[union-attr]
    assert (uow.committed, uow.published, len(uow.submissions)) == (False, [], 0)


def test_a_preview_the_classification_would_reject_answers_its_reasons_and_a_bad_field_the_usual_422(client: TestClient) -> None:
    unknown = example()
    unknown["hazards"][0] = {**unknown["hazards"][0], "factor": "某种新型粉尘"}  # not catalogued, no nature declared

    rejected = client.post("/reports:preview", json=unknown, headers={**auth("county", "141029"), "Accept-Language": "en"})

    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["outcome"] == "rejected" and "result" not in rejected.json()
    [reason] = rejected.json()["reasons"]
    assert (reason["field"], reason["code"]) == ("hazards[0].factor", "assessment.reject.factor_not_catalogued")
    assert reason["message"] == i18n.text(reason["code"], reason["params"], "en") and "某种新型粉尘" in reason["message"]

    too_many = example()
    too_many["hazards"][0]["exposed"] = 500  # more than its 86 employees: refused before any classification, as POST /reports
    invalid = client.post("/reports:preview", json=too_many, headers=auth("employer", EMPLOYER))
    assert invalid.status_code == 422 and invalid.json()["code"] == "errors.report.invalid"
    assert [e["field"] for e in invalid.json()["errors"]] == ["hazards[0].exposed"]
    assert kept(client) == (0, 0)


@pytest.mark.parametrize(("role", "scope", "status", "code"), [
    ("auditor", "141000", 403, "errors.submission.auditor"),
    ("employer", new_credit_code("141029"), 403, "errors.submission.other_employer"),
    ("county", "141081", 403, "errors.submission.outside_jurisdiction"),
])
def test_the_preview_is_refused_to_whoever_may_not_submit_the_report(client: TestClient, role: str, scope: str, status: int, code: str) -> None:
    refused = client.post("/reports:preview", json=example(), headers=auth(role, scope))  # type: ignore[arg-type]

    assert (refused.status_code, refused.json()["code"]) == (status, code)


def test_the_checklist_is_scored_as_it_is_answered_and_the_last_answer_gives_the_category(client: TestClient) -> None:
    employer = auth("employer", EMPLOYER)
    report = example(self_check={"items": answered(2, **{"1_2": 1, "2_2": "n/a"})})  # 1.1 full (4), 1.2 one of 3, 2.2 n/a

    so_far = client.post("/reports:preview", params={"partial": "true"}, json=report, headers=employer)

    assert so_far.status_code == 200, so_far.text
    body = so_far.json()
    assert set(body) == {"outcome", "rule_set", "unanswered", "running"}, "no category while items are unanswered"
    assert body["outcome"] == "partial"
    assert body["unanswered"] == [item.id for item in CHECKLIST.items() if item.id not in ("1.1", "1.2", "2.2")]
    assert body["running"] == {"items": len(CHECKLIST.items()), "answered": 3, "earned": 5.0, "applicable": 7.0, "score": 71.4,
                               "not_applicable": ["2.2"], "vetoed": [],
                               "lost_points": [{"item": "1.2", "title": CHECKLIST.item("1.2").title, "earned": 1.0, "points": 3.0}]}  # type: ignore[union-attr]
    assert body["rule_set"]["version"] == "2022.1"
    the_same_unfinished = client.post("/reports:preview", json=report, headers=employer).json()
    assert the_same_unfinished["outcome"] == "rejected"
    assert [r["code"] for r in the_same_unfinished["reasons"]] == ["assessment.reject.checklist.not_answered"]

    over = client.post("/reports:preview", params={"partial": "true"}, json=example(self_check={"items": {"1.1": 5}}), headers=employer)
    assert over.json()["outcome"] == "rejected" and over.json()["reasons"][0]["code"] == "assessment.reject.checklist.over_points"

    everything = answered(**{"1_2": 1, "2_2": "n/a", "5_1": 2})
    finished = client.post("/reports:preview", params={"partial": "true"}, json=example(self_check={"items": everything}), headers=employer)
    complete = example(self_check={"items": everything})
    classified = client.post("/reports:preview", json=complete, headers=employer).json()["result"]
    by_the_classifier = classify(Report.model_validate(complete), NATIONAL_2022)
    assert finished.json()["unanswered"] == []
    assert finished.json()["running"]["score"] == classified["score"] == float(score_checklist(everything, CHECKLIST).score)
    assert classified["score_source"] == "computed" and classified["category"] == by_the_classifier.category == "乙"  # type: ignore[union-attr]
    assert [p["item"] for p in classified["lost_points"]] == [p["item"] for p in finished.json()["running"]["lost_points"]] == ["1.2", "5.1"]
    assert kept(client) == (0, 0)


# --------------------------------------------------------------------------- GET /reports


def submitted(client: TestClient, credit_code: str, region: str, signed_by: str = "张三") -> str:
    report = report_for(credit_code, region, signed_by=signed_by)  # another signatory: another report, not a duplicate
    accepted = client.post("/reports", json=report, headers=auth("employer", credit_code))
    assert accepted.status_code == 202, accepted.text
    return report["submission_id"]


def classified(client: TestClient, submission_id: str) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.uow() as uow:
        stored = uow.submissions.get(submission_id)
        event = ReportSubmitted(producer="assessment", credit_code=stored.credit_code, submission_id=uuid.UUID(submission_id),
                                received_at=datetime.now(timezone.utc), report=Report.model_validate(stored.report))
        handlers.classify_submission(uow, event, client.app.state.rules)  # type: ignore[attr-defined]
        uow.commit()


def listed(client: TestClient, headers: dict[str, str], **params: Any) -> tuple[list[str], int]:
    answer = client.get("/reports", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["submission_id"] for item in answer.json()["items"]], answer.json()["total"]


def test_each_caller_lists_the_submissions_it_may_read_newest_first(client: TestClient) -> None:
    other, houma = new_credit_code("141029"), new_credit_code("141081")
    first = submitted(client, EMPLOYER, "141029")
    theirs = submitted(client, other, "141029")
    in_houma = submitted(client, houma, "141081")
    second = submitted(client, EMPLOYER, "141029", signed_by="李四")
    classified(client, first)

    mine = client.get("/reports", headers=auth("employer", EMPLOYER)).json()
    assert ([i["submission_id"] for i in mine["items"]], mine["total"]) == ([second, first], 2)
    newest, oldest = mine["items"]
    assert (newest["status"], newest["category"], newest["enterprise_name"], newest["region_code"]) == ("accepted", None, "乡宁县示例水泥有限公司", "141029")
    assert (oldest["status"], oldest["category"], oldest["hazard_grade"], oldest["management_grade"], oldest["score"]) == ("classified", "丙", "Ⅲ", "B", 82.5)
    assert oldest["links"] == {"self": f"/reports/{first}"} and oldest["decided_at"] and oldest["assessed_on"] == "2023-06-01"
    assert listed(client, auth("employer", EMPLOYER), credit_code=other) == ([], 0), "another employer's: nothing"

    assert listed(client, auth("county", "141029")) == ([second, theirs, first], 3)
    assert listed(client, auth("county", "141081")) == ([in_houma], 1), "a county of another region sees nothing of 乡宁县"
    assert listed(client, auth("county", "141081"), credit_code=EMPLOYER) == ([], 0)
    assert listed(client, auth("city", "141000")) == ([second, in_houma, theirs, first], 4)
    assert listed(client, auth("auditor", "141000"), region_code="141081") == ([in_houma], 1)
    assert listed(client, auth("province", "140000"), credit_code=EMPLOYER, status="classified") == ([first], 1)
    assert listed(client, auth("city", "141000"), status="accepted", limit=1, offset=1) == ([in_houma], 3), "a page; total counts them all"
    assert listed(client, auth("county", "140105")) == ([], 0), "a county of 太原: none of 临汾's"

    outside = client.get("/reports", params={"region_code": "141081"}, headers=auth("county", "141029"))
    assert outside.status_code == 403
    for bad in ({"limit": 201}, {"limit": 0}, {"status": "lost"}, {"credit_code": "91141029MA0GRT8U3X"}, {"region_code": "14"}):
        refused = client.get("/reports", params=bad, headers=auth("employer", EMPLOYER))
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == list(bad), (bad, refused.text)
