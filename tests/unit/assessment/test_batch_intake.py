"""``POST /reports:batch``: a county's reports in one request, each decided exactly as ``POST /reports``
decides it, the accepted ones written (and announced through the outbox) in one transaction.

Told on a fake unit of work (``handlers.submit_reports``), then on SQLite (a concurrent insert makes the
batch's commit fail: its items are submitted again one by one), then through the HTTP API."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from services.assessment import views
from services.assessment.adapters.orm import MODELS, Submission
from services.assessment.bootstrap import bootstrap
from services.assessment.service_layer import handlers
from services.assessment.service_layer.unit_of_work import AssessmentUnitOfWork
from shared.auth import Principal
from shared.contracts import (
    ClassificationChanged,
    OrgDisqualified,
    Report,
    ReportSubmitted,
)
from shared.db import OutboxMessage, create_tables, make_engine
from shared.identifiers import credit_code_check_character
from tests.examples import EXAMPLE_REPORT
from tests.support import app_without_broker, auth, new_credit_code
from tests.unit.assessment.fakes import FakeUnitOfWork

TODAY = date(2023, 6, 12)
EMPLOYER = EXAMPLE_REPORT["enterprise"]["credit_code"]  # 乡宁县 141029
HOUMA_EMPLOYER = "91141081MA0GRT8U3" + credit_code_check_character("91141081MA0GRT8U3")  # archived in 侯马市 141081
ORG = "91140100MA0K5XQ88" + credit_code_check_character("91140100MA0K5XQ88")
XIANGNING = Principal(subject="c1", name="乡宁县 王科员", role="county", region_code="141029")
AUDITOR = Principal(subject="a1", name="临汾市 审计", role="auditor", region_code="141000")
ITSELF = Principal(subject="e1", name="乡宁县示例水泥", role="employer", credit_code=EMPLOYER)


def raw(credit_code: str = EMPLOYER, region: str = "141029", **changes: Any) -> dict[str, Any]:
    """A report as JSON, as a client sends it."""
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["submission_id"] = str(uuid.uuid4())
    data["enterprise"].update(credit_code=credit_code, region_code=region)
    data.update(changes)
    return data


def malformed() -> dict[str, Any]:
    data = raw()
    data["hazards"][0]["exposed"] = "many"  # not a number: the contract refuses it
    data["enterprise"]["employees"] = -1
    return data


def archived_in_houma(uow: Any) -> None:
    handlers.record_archived_employer(uow, ClassificationChanged(
        producer="registry", credit_code=HOUMA_EMPLOYER, enterprise_name="侯马市某化工有限公司", region_code="141081",
        archive_version=1, previous_category=None, category="丙", hazard_grade="Ⅲ", management_grade="B", submission_id=None,
        reason="first archive"))


def statuses(results: list[handlers.ItemResult]) -> list[str]:
    return [r.status for r in results]


class CountingUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1
        super().commit()


# --------------------------------------------------------------------------- the use case, on a fake unit of work


def mixed_batch() -> list[Any]:
    first, other = raw(), raw(credit_code=new_credit_code("141029"))
    too_many = raw(credit_code=new_credit_code("141029"))
    too_many["hazards"][0]["exposed"] = 500  # more than its 86 employees: a business rule, after the contract
    return [
        first,  # 0 accepted
        first,  # 1 the same report again: its duplicate
        malformed(),  # 2 invalid, naming the fields
        raw(credit_code=HOUMA_EMPLOYER),  # 3 侯马市's archived employer, claimed for 乡宁县: not in the jurisdiction
        raw(credit_code=new_credit_code("141024"), region="141024"),  # 4 an employer of 洪洞县: refused
        too_many,  # 5 invalid (business rule)
        {**first, "signed_by": "李四"},  # 6 the id of item 0 with another report: conflict
        other,  # 7 accepted
        {**copy.deepcopy(first), "submission_id": str(uuid.uuid4())},  # 8 item 0's report under a new id: a duplicate of it
        [1, 2, 3],  # 9 not even an object
    ]


def test_a_mixed_batch_decides_each_item_as_post_reports_would_and_keeps_only_the_good_ones() -> None:
    uow = CountingUnitOfWork()
    archived_in_houma(uow)
    batch = mixed_batch()

    results = handlers.submit_reports(uow, batch, XIANGNING, TODAY)

    assert [r.index for r in results] == list(range(len(batch)))
    assert statuses(results) == ["accepted", "duplicate", "invalid", "not_found", "refused", "invalid", "conflict", "accepted",
                                 "duplicate", "invalid"]
    first_id, other_id = batch[0]["submission_id"], batch[7]["submission_id"]
    assert [results[i].submission_id for i in (0, 1, 7, 8)] == [first_id, first_id, other_id, first_id]
    assert [(p.field, p.message, p.code) for p in results[2].errors] == [
        ("enterprise.employees", "应大于或等于 0", "errors.field.greater_than_equal"), ("hazards[0].exposed", "应为整数", "errors.field.int_type")]
    assert results[2].errors[0].text("en") == "must be greater than or equal to 0" and results[2].code == "errors.report.invalid"
    assert results[3].detail == f"no employer {HOUMA_EMPLOYER} in your jurisdiction"
    assert (results[3].code, results[3].params) == ("errors.employer.not_in_jurisdiction", {"credit_code": HOUMA_EMPLOYER})
    assert "141024" in (results[4].detail or "") and "outside the jurisdiction" in (results[4].detail or "")
    assert [(p.field, p.message, p.code) for p in results[5].errors] == [
        ("hazards[0].exposed", "接触人数500超过职工总数86", "assessment.reject.report.exposed_over_employees")]
    assert results[5].errors[0].text("en") == "500 exceeds enterprise.employees 86"
    assert f"submission {first_id} already holds a different report" == results[6].detail
    assert results[9].errors[0].field == "(body)"

    assert len(uow.submissions) == 2
    assert [str(e.submission_id) for e in uow.events(ReportSubmitted)] == [first_id, other_id], "each accepted report announced once"
    assert uow.commits == 1, "the accepted reports are written in one transaction"


def test_the_batch_answers_exactly_what_the_reports_sent_one_by_one_get() -> None:
    batch = mixed_batch()
    alone = CountingUnitOfWork()
    archived_in_houma(alone)
    one_by_one = []
    for index, item in enumerate(batch):
        parsed = handlers.parse_report(item)
        if not isinstance(parsed, Report):
            one_by_one.append(handlers.ItemResult(index, "invalid", errors=tuple(parsed), detail="the report is invalid",
                                                  code="errors.report.invalid"))
            continue
        try:
            accepted = handlers.submit_report(alone, parsed, XIANGNING, TODAY)
        except handlers.SUBMISSION_ERRORS as error:
            one_by_one.append(handlers.refused_item(index, error))
            continue
        one_by_one.append(handlers.ItemResult(index, "accepted" if accepted.new else "duplicate", accepted.submission.submission_id))
    together = CountingUnitOfWork()
    archived_in_houma(together)

    assert handlers.submit_reports(together, batch, XIANGNING, TODAY) == one_by_one
    assert sorted(together.submissions._by_id) == sorted(alone.submissions._by_id)
    assert [e.submission_id for e in together.events(ReportSubmitted)] == [e.submission_id for e in alone.events(ReportSubmitted)]
    assert (together.commits, alone.commits) == (1, 2)


def test_an_employer_token_submits_its_own_reports_and_is_refused_anothers() -> None:
    uow = FakeUnitOfWork()
    own, anothers = raw(), raw(credit_code=new_credit_code("141029"))

    results = handlers.submit_reports(uow, [own, anothers], ITSELF, TODAY)

    assert statuses(results) == ["accepted", "refused"]
    assert "an employer's token submits only the employer's own reports" in (results[1].detail or "")
    assert [str(e.submission_id) for e in uow.events(ReportSubmitted)] == [own["submission_id"]]


def test_an_auditor_submits_nothing() -> None:
    uow = FakeUnitOfWork()
    results = handlers.submit_reports(uow, [raw(), raw()], AUDITOR, TODAY)
    assert statuses(results) == ["refused", "refused"] and "auditor" in (results[0].detail or "")
    assert len(uow.submissions) == 0 and uow.published == [] and not uow.committed


def test_the_same_batch_sent_twice_is_all_duplicates_the_second_time() -> None:
    uow = CountingUnitOfWork()
    batch = [raw(credit_code=new_credit_code("141029")) for _ in range(5)]
    assert statuses(handlers.submit_reports(uow, batch, XIANGNING, TODAY)) == ["accepted"] * 5
    published = list(uow.published)

    again = handlers.submit_reports(uow, batch, XIANGNING, TODAY)

    assert statuses(again) == ["duplicate"] * 5
    assert [r.submission_id for r in again] == [b["submission_id"] for b in batch]
    assert uow.published == published and len(uow.submissions) == 5
    assert uow.commits == 1, "nothing new: nothing to commit"


def test_a_disqualified_organisations_report_is_invalid_naming_the_decision() -> None:
    uow = FakeUnitOfWork()
    handlers.record_disqualification(uow, OrgDisqualified(
        producer="penalty", credit_code=ORG, org_name="某职业卫生技术服务有限公司", decision_no="晋卫监罚〔2023〕12号",
        decided_on=date(2023, 3, 1), until=None, reason="出具虚假评估报告"))
    by_org = raw(assessor={"type": "organisation", "org_id": ORG, "org_name": "某职业卫生技术服务有限公司"})

    [result] = handlers.submit_reports(uow, [by_org], XIANGNING, TODAY)

    assert result.status == "invalid" and result.detail == "the assessor may not submit"
    assert [p.field for p in result.errors] == ["assessor.org_id"] and "晋卫监罚〔2023〕12号" in result.errors[0].message


def test_a_large_batch_is_written_in_chunks_each_in_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "WRITE_CHUNK", 4)
    uow = CountingUnitOfWork()
    first = raw()
    batch = [first, *[raw(credit_code=new_credit_code("141029")) for _ in range(8)], first]  # the last repeats the first, two chunks later

    results = handlers.submit_reports(uow, batch, XIANGNING, TODAY)

    assert statuses(results) == ["accepted"] * 9 + ["duplicate"]
    assert uow.commits == 3 and len(uow.events(ReportSubmitted)) == 9


def test_an_item_too_large_is_invalid_without_reading_it() -> None:
    huge = raw(signed_by="张" * (handlers.MAX_REPORT_BYTES // 3 + 1))
    [result, fine] = handlers.submit_reports(FakeUnitOfWork(), [huge, raw()], XIANGNING, TODAY)
    assert result.status == "invalid" and result.errors[0].field == "(body)" and "bytes" in result.errors[0].message
    assert fine.status == "accepted"


# --------------------------------------------------------------------------- on SQLite: a concurrent insert


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'assessment.db'}")
    create_tables(engine, MODELS)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("preloading", [True, False], ids=["preloaded reads", "repository reads"])
def test_a_row_a_concurrent_request_inserted_makes_the_chunk_go_one_by_one(engine: Any, monkeypatch: pytest.MonkeyPatch, preloading: bool) -> None:
    """Between the batch's reads and its commit, another request keeps one of its reports: the commit fails on the
    submission id, the chunk is rolled back and submitted again item by item; the raced item is that request's
    duplicate, the others are accepted, and every report is announced exactly once."""
    batch = [raw(credit_code=new_credit_code("141029")) for _ in range(3)]
    raced = Report.model_validate(batch[1])
    record = handlers.record_acceptance
    calls: list[int] = []

    def meanwhile(uow: Any, report: Report, submission: Submission) -> None:
        calls.append(1)
        if len(calls) == 1:
            with AssessmentUnitOfWork(engine) as other:  # the other request, on its own connection
                assert handlers.accept_report(other, raced, TODAY).new
        record(uow, report, submission)

    monkeypatch.setattr(handlers, "record_acceptance", meanwhile)
    with AssessmentUnitOfWork(engine) as uow:
        preload = (lambda reports: views.preloaded(uow.session, reports)) if preloading else None
        results = handlers.submit_reports(uow, batch, XIANGNING, TODAY, preload)

    assert statuses(results) == ["accepted", "duplicate", "accepted"]
    assert [r.submission_id for r in results] == [b["submission_id"] for b in batch]
    with AssessmentUnitOfWork(engine) as uow:
        kept = uow.session.exec(select(func.count()).select_from(Submission)).one()
        announced = [json.loads(m.payload)["submission_id"] for m in uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kept == 3
    assert sorted(announced) == sorted(b["submission_id"] for b in batch), "each report announced once"


def test_preloaded_reads_decide_as_the_repositories_do(engine: Any) -> None:
    """The same mixed batches (and again, now that the first ones are kept) on two SQLite stores: one batch reading
    through the repositories, the other through ``views.preloaded``; every answer the same."""
    other_engine = make_engine(str(engine.url).replace("assessment.db", "other.db"))
    create_tables(other_engine, MODELS)
    first_batch = mixed_batch()
    org_report = raw(credit_code=new_credit_code("141029"), assessor={"type": "organisation", "org_id": ORG, "org_name": "某机构"})
    second = [*first_batch[:2], raw(credit_code=first_batch[0]["enterprise"]["credit_code"], signed_by="王五"), org_report]
    answers = []
    for store, preloading in ((engine, False), (other_engine, True)):
        with AssessmentUnitOfWork(store) as uow:
            archived_in_houma(uow)
            handlers.record_disqualification(uow, OrgDisqualified(
                producer="penalty", credit_code=ORG, org_name="某机构", decision_no="晋卫监罚〔2023〕1号",
                decided_on=date(2023, 1, 1), until=None, reason="出具虚假评估报告"))
            uow.commit()
            preload = (lambda reports, u=uow: views.preloaded(u.session, reports)) if preloading else None
            answers.append([handlers.submit_reports(uow, batch, XIANGNING, TODAY, preload) for batch in (first_batch, second, first_batch)])
    other_engine.dispose()
    assert answers[0] == answers[1]
    assert statuses(answers[1][1]) == ["duplicate", "duplicate", "accepted", "invalid"]
    # again: the first report under a new id is no longer the employer's latest (王五's is): a new submission
    assert statuses(answers[1][2]) == ["duplicate", "duplicate", "invalid", "not_found", "refused", "invalid", "conflict", "duplicate",
                                       "accepted", "invalid"]


# --------------------------------------------------------------------------- through HTTP


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = app_without_broker(bootstrap, "assessment", tmp_path)
    runtime = app.state.runtime
    with runtime.uow() as uow:
        archived_in_houma(uow)
        uow.commit()
    yield TestClient(app)
    runtime.engine.dispose()


def outbox(client: TestClient) -> list[str]:
    with client.app.state.runtime.uow() as uow:  # type: ignore[attr-defined]
        return [json.loads(m.payload)["submission_id"] for m in uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id))]


def stored(client: TestClient) -> int:
    with client.app.state.runtime.uow() as uow:  # type: ignore[attr-defined]
        return uow.session.exec(select(func.count()).select_from(Submission)).one()


def test_http_a_mixed_batch_answers_200_with_each_items_result_in_order(client: TestClient) -> None:
    first, other = raw(assessed_on="2023-06-01"), raw(credit_code=new_credit_code("141029"))
    batch = [first, first, malformed(), raw(credit_code=HOUMA_EMPLOYER), raw(credit_code=new_credit_code("141024"), region="141024"),
             {**first, "signed_by": "李四"}, other]

    answer = client.post("/reports:batch", json={"reports": batch}, headers=auth("county", "141029"))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(r["index"], r["status"]) for r in body["results"]] == list(enumerate(
        ["accepted", "duplicate", "invalid", "not_found", "refused", "conflict", "accepted"]))
    assert body["totals"] == {"received": 7, "accepted": 2, "duplicate": 1, "invalid": 1, "refused": 1, "not_found": 1, "conflict": 1}
    assert body["results"][0] == {"index": 0, "status": "accepted", "submission_id": first["submission_id"]}
    # a malformed item is named field by field exactly as POST /reports names it in its 422
    alone = client.post("/reports", json=batch[2], headers=auth("county", "141029"))
    assert alone.status_code == 422 and body["results"][2]["errors"] == alone.json()["errors"]
    assert body["results"][3]["detail"] == client.post("/reports", json=batch[3], headers=auth("county", "141029")).json()["detail"]
    assert set(body["results"][4]) == {"index", "status", "detail", "code"}
    assert body["results"][4]["code"] == "errors.submission.outside_jurisdiction" and "管辖范围" in body["results"][4]["detail"]
    english = client.post("/reports:batch", json={"reports": batch[2:5]}, headers=auth("county", "141029") | {"Accept-Language": "en"})
    assert english.headers["content-language"] == "en"
    assert [r.get("code") for r in english.json()["results"]] == [
        "errors.report.invalid", "errors.employer.not_in_jurisdiction", "errors.submission.outside_jurisdiction"]
    assert english.json()["results"][1]["detail"] == f"no employer {HOUMA_EMPLOYER} in your jurisdiction"

    assert stored(client) == 2 and outbox(client) == [first["submission_id"], other["submission_id"]]
    assert client.get(f"/reports/{first['submission_id']}", headers=auth("county")).json()["status"] == "accepted"

    again = client.post("/reports:batch", json={"reports": [first, other]}, headers=auth("county", "141029")).json()
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert stored(client) == 2 and len(outbox(client)) == 2, "nothing new, nothing announced"


def test_http_an_employer_token_for_another_employer_is_refused_item_by_item(client: TestClient) -> None:
    own, anothers = raw(), raw(credit_code=new_credit_code("141029"))
    answer = client.post("/reports:batch", json={"reports": [anothers, own]}, headers=auth("employer", EMPLOYER)).json()
    assert [r["status"] for r in answer["results"]] == ["refused", "accepted"]
    assert outbox(client) == [own["submission_id"]]


def test_http_request_level_errors_use_the_one_error_body(client: TestClient) -> None:
    county = auth("county", "141029")
    too_many = client.post("/reports:batch", json={"reports": [{}] * (handlers.BATCH_LIMIT + 1)}, headers=county)
    assert too_many.status_code == 422
    assert [e["field"] for e in too_many.json()["errors"]] == ["reports"] and "5000" in too_many.json()["errors"][0]["message"]
    for body in ({"reports": []}, {"reports": {"0": raw()}}, [raw()], {"reports": [raw()], "dry_run": True}):
        refused = client.post("/reports:batch", json=body, headers=county)
        assert refused.status_code == 422 and refused.json()["errors"], body
    assert client.post("/reports:batch", json={"reports": [raw()]}).status_code == 401
    assert stored(client) == 0


def test_http_the_batch_route_has_its_own_body_cap(client: TestClient) -> None:
    county = {**auth("county", "141029"), "content-type": "application/json"}
    padded = raw(signed_by="x" * 3000)  # 3.7 KB: too long a name, so each item is invalid, but the body gets in
    nine_mib = json.dumps({"reports": [padded] * 2600}).encode()
    assert 8 * 1024 * 1024 < len(nine_mib) < 20 * 1024 * 1024
    taken = client.post("/reports:batch", content=nine_mib, headers=county)
    assert taken.status_code == 200 and taken.json()["totals"]["invalid"] == 2600
    assert client.post("/reports", content=nine_mib, headers=county).status_code == 413, "POST /reports keeps the service's 8 MiB"

    too_large = client.post("/reports:batch", content=b" " * (20 * 1024 * 1024 + 1), headers=county)
    assert too_large.status_code == 413
    assert too_large.json() == {"detail": "请求体超过本服务接受的大小（最多 20971520 字节）", "code": "errors.request.too_large", "errors": []}


def test_http_the_openapi_shows_each_item_as_a_report_and_the_limits(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/reports:batch"]["post"]
    assert operation["x-max-body-bytes"] == 20 * 1024 * 1024
    assert set(operation["responses"]) >= {"200", "401", "413", "422"}
    batch = schema["components"]["schemas"]["ReportBatch"]["properties"]["reports"]
    assert (batch["minItems"], batch["maxItems"]) == (1, handlers.BATCH_LIMIT)
    assert batch["items"]["title"] == "Report" and "hazards" in batch["items"]["properties"]
    assert "/reports/{submission_id}" in schema["paths"], "both routes, no collision"
