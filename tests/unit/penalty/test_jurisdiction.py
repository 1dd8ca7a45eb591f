"""The county of a case opened from a request is the archive's (RULES §5a), never the request's claim.

Penalty keeps where the registry's archive has each employer (``ohs.registry.classification-changed``,
the highest archive version). A county token cannot record a violation — even a major one, which
would raise the employer's category — against another county's employer by naming its own region:
a token not covering the archive's county reads the employer as absent (404), and a region_code
naming another county than the archive's is 422 naming the archive's. Told on a fake unit of work,
then through the HTTP API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.penalty.bootstrap import bootstrap
from services.penalty.service_layer import handlers
from services.penalty.service_layer.handlers import NewViolation, Rulebook
from shared import topics
from shared.auth import Principal
from shared.contracts import (
    ClassificationChanged,
    FieldProblem,
    PenaltyDecided,
    ViolationRecorded,
)
from shared.dates import china_today
from shared.db import OutboxMessage
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker, auth
from tests.unit.penalty.fakes import FakeUnitOfWork

RULES = Rulebook.load()
HOUMA_EMPLOYER = "91141081MA0GRT8U3" + credit_code_check_character("91141081MA0GRT8U3")  # an employer of 侯马市 141081
XIANGNING = Principal("c1", "乡宁县 张三", "county", "141029")
HOUMA = Principal("c3", "侯马市 孙科员", "county", "141081")
LINFEN = Principal("c4", "临汾市 李科长", "city", "141000")
FOUND_ON = date(2026, 3, 2)


def changed(region: str, version: int) -> ClassificationChanged:
    return ClassificationChanged(
        producer="registry", credit_code=HOUMA_EMPLOYER, enterprise_name="侯马市某化工有限公司", region_code=region,
        archive_version=version, previous_category=None, category="乙", hazard_grade="Ⅱ", management_grade="B",
        submission_id=None, reason="first archive",
    )


def archived_in(region: str) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    handlers.record_archived_employer(uow, changed(region, 1))
    return uow


def violation(region_code: str | None = None, major: bool = False) -> NewViolation:
    return NewViolation(credit_code=HOUMA_EMPLOYER, item_code="70-4", found_on=FOUND_ON, harm="none", region_code=region_code, major=major)


def no_problems() -> list[FieldProblem]:
    return []


def nothing_recorded(uow: FakeUnitOfWork) -> bool:
    return uow.cases.cases == {} and uow.published == [] and not uow.committed


# --------------------------------------------------------------------------- the projection


def test_the_county_of_the_highest_archive_version_is_kept() -> None:
    uow = FakeUnitOfWork()
    for event in (changed("141081", 1), changed("141024", 4), changed("141081", 2), changed("141024", 4)):
        handlers.record_archived_employer(uow, event)
    known = uow.archived_employers.get(HOUMA_EMPLOYER)
    assert (known.region_code, known.archive_version) == ("141024", 4)  # type: ignore[union-attr]
    assert not uow.committed


# --------------------------------------------------------------------------- the refused writes


@pytest.mark.parametrize("major", [False, True], ids=["minor", "major (would raise the category)"])
def test_a_county_cannot_record_a_violation_on_another_countys_employer_by_naming_its_own_region(major: bool) -> None:
    uow = archived_in("141081")

    with pytest.raises(handlers.NotInJurisdiction, match=f"您的管辖范围内没有用人单位 {HOUMA_EMPLOYER}"):
        handlers.record_violation_by_staff(uow, XIANGNING, violation("141029", major), no_problems, RULES, FOUND_ON)

    assert nothing_recorded(uow)


def test_a_region_code_other_than_the_archives_county_is_422_naming_it() -> None:
    uow = archived_in("141081")

    with pytest.raises(handlers.ViolationInvalid) as refused:  # 临汾市 covers both counties: it may learn where the employer is
        handlers.record_violation_by_staff(uow, LINFEN, violation("141029", major=True), no_problems, RULES, FOUND_ON)

    [problem] = refused.value.problems
    assert (problem.field, problem.code) == ("region_code", "penalty.error.region_not_archive_county") and "141081" in problem.message
    assert nothing_recorded(uow)


def test_the_region_check_comes_before_the_dates() -> None:
    uow = archived_in("141081")
    with pytest.raises(handlers.NotInJurisdiction):
        handlers.record_violation_by_staff(uow, XIANGNING, violation(), lambda: [FieldProblem("found_on", "in the future")], RULES, FOUND_ON)


# --------------------------------------------------------------------------- what stays allowed


@pytest.mark.parametrize(("principal", "region_code"), [(HOUMA, None), (HOUMA, "141081"), (LINFEN, None)])
def test_staff_covering_the_archives_county_open_the_case_there(principal: Principal, region_code: str | None) -> None:
    uow = archived_in("141081")

    case = handlers.record_violation_by_staff(uow, principal, violation(region_code, major=True), no_problems, RULES, FOUND_ON)

    assert uow.committed and case.region_code == "141081" and case.case_code.startswith("141081")  # type: ignore[union-attr]
    [recorded] = uow.events(ViolationRecorded)
    assert recorded.region_code == "141081" and recorded.major  # type: ignore[attr-defined]
    assert [d.major for d in uow.events(PenaltyDecided)] == [True]


def test_a_moved_employers_cases_belong_to_its_new_county() -> None:
    uow = archived_in("141081")
    handlers.record_archived_employer(uow, changed("141024", 3))  # the move was accepted (RULES §5a)

    with pytest.raises(handlers.NotInJurisdiction):
        handlers.record_violation_by_staff(uow, HOUMA, violation(), no_problems, RULES, FOUND_ON)
    case = handlers.record_violation_by_staff(uow, Principal("c2", "洪洞县 李四", "county", "141024"), violation(), no_problems, RULES, FOUND_ON)
    assert case.region_code == "141024"


def test_an_employer_not_archived_yet_is_as_before() -> None:
    with pytest.raises(handlers.OutsideJurisdiction, match="141081"):  # the credit code's county
        handlers.record_violation_by_staff(FakeUnitOfWork(), XIANGNING, violation(), no_problems, RULES, FOUND_ON)
    case = handlers.record_violation_by_staff(FakeUnitOfWork(), XIANGNING, violation("141029"), no_problems, RULES, FOUND_ON)
    assert case.region_code == "141029", "not archived: the request's region_code, as before"


# --------------------------------------------------------------------------- through HTTP


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("penalty-jurisdiction")
    app = app_without_broker(bootstrap, "penalty", folder)
    runtime = app.state.runtime
    with runtime.uow() as uow:
        handlers.record_archived_employer(uow, changed("141081", 1))
        uow.commit()
    yield TestClient(app)
    runtime.engine.dispose()


def body(**changes: object) -> dict[str, object]:
    return {"credit_code": HOUMA_EMPLOYER, "item_code": "70-4", "found_on": (china_today() - timedelta(days=3)).isoformat(),
            "harm": "none", **changes}


def outbox(client: TestClient) -> list[dict]:
    with Session(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.topic.in_([topics.VIOLATION_RECORDED, topics.PENALTY_DECIDED])))  # type: ignore[attr-defined]
        return [json.loads(m.payload) for m in rows]


@pytest.mark.parametrize("major", [False, True], ids=["minor", "major"])
def test_http_a_county_naming_its_own_region_for_another_countys_employer_gets_404(client: TestClient, major: bool) -> None:
    before = len(outbox(client))

    refused = client.post("/violations", json=body(region_code="141029", major=major), headers=auth("county", "141029"))

    assert refused.status_code == 404 and refused.json()["detail"] == f"您的管辖范围内没有用人单位 {HOUMA_EMPLOYER}"
    assert refused.json()["code"] == "penalty.error.employer_not_found"
    assert len(outbox(client)) == before, "no event"
    assert client.get("/cases", params={"credit_code": HOUMA_EMPLOYER}, headers=auth("province")).json()["total"] == 0


def test_http_a_region_code_other_than_the_archives_county_is_422_on_region_code(client: TestClient) -> None:
    before = len(outbox(client))

    refused = client.post("/violations", json=body(region_code="141029", major=True), headers=auth("city", "141000"))

    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "region_code" and "141081" in error["message"]
    assert len(outbox(client)) == before


def test_http_the_archives_county_records_it(client: TestClient) -> None:
    recorded = client.post("/violations", json=body(major=True), headers=auth("county", "141081"))
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["region_code"] == "141081"
