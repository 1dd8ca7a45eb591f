"""The archive listed for the console (issue 15): GET /enterprises filtered in the query by county, category, industry
and overdue assessment, a page at a time with the total; GET /reminders with only the most urgent items. TestClient
without the lifespan, SQLite migrated by the registry's migrations, dates relative to today in China."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.bootstrap import bootstrap
from services.registry.domain import reminders as rules
from services.registry.domain.exemptions import china_today
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.reminders import facts
from services.registry.adapters.orm import EnterpriseRecord
from shared.auth import issue_token
from shared.dates import add_months
from shared.migrations import upgrade
from shared.settings import settings_for
from tests.unit.registry.test_reminders import code, industry, report, uow_of

SECRET = "test-secret-for-the-archive-listing"


def header(role: str, scope: str) -> dict[str, str]:
    where = {"credit_code": scope} if role == "employer" else {"region_code": scope}
    return {"Authorization": f"Bearer {issue_token(SECRET, role, '张三', subject=f'u-{role}', **where)}"}  # type: ignore[arg-type]


COUNTY, CITY, AUDITOR = header("county", "141029"), header("city", "141000"), header("auditor", "141000")
# 乡宁县: due in 30 days (C3021), a day overdue (C3011), archived before the due day was kept and 4 years old (C2614),
# an industry default started 100 days ago (B0610: its first assessment is overdue), one started 10 days ago (not yet);
# one overdue on the same day as LATE (C1391), one archived before the due day was kept whose 3 years end in 20 days
# (C1391); 洪洞县: overdue (C3021)
SOON, LATE, OLD, NEW, FRESH, ELSEWHERE = code(1), code(2), code(3), code(4), code(5), code(6, "141024")
TWIN, OLD_SOON = code(7), code(8)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret=SECRET), create_topics=False)
    runtime = app.state.runtime
    upgrade("registry", runtime.engine)

    async def no_broker() -> int:
        return 0

    runtime.relay.flush = no_broker
    today = china_today()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    def of(event: Any, *codes: str, category: str = "乙") -> Any:
        return event.model_copy(update={"industry_codes": list(codes), "category": category})

    with Session(runtime.engine) as s:
        archive_classification(uow_of(s), of(report(SOON, day(-1000), day(30)), "C3021", category="甲"))
        archive_classification(uow_of(s), of(report(LATE, day(-1100), day(-1)), "C3011", "C2614"))
        archive_classification(uow_of(s), of(report(OLD, day(-1500), None), "C2614", category="丙"))
        industry(s, NEW, day(-100))
        industry(s, FRESH, day(-10))
        archive_classification(uow_of(s), of(report(TWIN, day(-1096), day(-1)), "C1391"))
        three_years_ago = add_months(today, -12 * rules.REASSESSMENT_YEARS)
        archive_classification(uow_of(s), of(report(OLD_SOON, (three_years_ago + timedelta(days=20)).isoformat(), None), "C1391"))
        archive_classification(uow_of(s), of(report(ELSEWHERE, day(-1200), day(-5), region="141024"), "C3021"))
        s.commit()
    yield TestClient(app)  # not entered: no lifespan, no Kafka
    runtime.engine.dispose()


def listed(client: TestClient, headers: dict[str, str], **params: Any) -> tuple[int, list[str]]:
    response = client.get("/enterprises", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["total"], [i["credit_code"] for i in body["items"]]


def test_staff_filter_the_archive_by_overdue_assessment_as_the_reminders_count_it(client: TestClient) -> None:
    total, found = listed(client, COUNTY, overdue="true")
    assert total == 4 and set(found) == {LATE, TWIN, OLD, NEW}  # re-assessment overdue (stored day, or 3 years on), first assessment overdue
    reminders = client.get("/reminders", headers=COUNTY).json()
    assert reminders["counts"][rules.OVERDUE] + reminders["counts"][rules.FIRST_OVERDUE] == total
    assert {i["credit_code"] for i in reminders["items"] if i["kind"] != rules.DUE_SOON} == set(found)
    # the city sees both counties' overdue employers, or one county's
    assert listed(client, CITY, overdue="true")[0] == 5
    assert listed(client, AUDITOR, overdue="true", region_code="141024") == (1, [ELSEWHERE])


def test_staff_filter_by_industry_code_or_its_start_and_combine_filters_with_paging(client: TestClient) -> None:
    assert set(listed(client, COUNTY, industry="C30")[1]) == {SOON, LATE}  # C3021, C3011
    assert set(listed(client, COUNTY, industry="C2614")[1]) == {LATE, OLD}  # any of the employer's codes
    assert set(listed(client, COUNTY, industry="B")[1]) == {NEW, FRESH}  # a 门类 letter
    assert listed(client, COUNTY, industry="C3021", category="甲") == (1, [SOON])
    assert listed(client, CITY, industry="C3021") == (2, sorted([SOON, ELSEWHERE]))
    assert listed(client, COUNTY, industry="C2614", overdue="true") == (2, sorted([LATE, OLD]))

    page = client.get("/enterprises", params={"limit": 2, "offset": 2}, headers=COUNTY).json()
    assert (page["total"], page["limit"], page["offset"]) == (7, 2, 2)
    assert [i["credit_code"] for i in page["items"]] == sorted([SOON, LATE, OLD, NEW, FRESH, TWIN, OLD_SOON])[2:4]
    item = client.get("/enterprises", params={"industry": "C3011"}, headers=COUNTY).json()["items"][0]
    assert item["industry_codes"] == ["C3011", "C2614"] and item["next_assessment_due"] == (china_today() - timedelta(days=1)).isoformat()


@pytest.mark.parametrize("industry", ["c30", "C3O", "C30211", "%", 'C"', ""])
def test_an_industry_that_is_no_code_is_refused_naming_the_field(client: TestClient, industry: str) -> None:
    response = client.get("/enterprises", params={"industry": industry}, headers=COUNTY)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["industry"]


def test_an_employer_lists_only_itself_whatever_the_filters(client: TestClient) -> None:
    employer = header("employer", LATE)
    assert listed(client, employer, overdue="true", industry="C") == (1, [LATE])
    assert listed(client, header("employer", SOON), overdue="true") == (0, [])


def test_the_reminders_may_be_cut_to_the_most_urgent_while_the_counts_cover_all(client: TestClient) -> None:
    """With ``limit`` the registry counts in the database and decides only the most urgent candidates: the same answer
    as deciding every candidate, cut (ties on a due day, a due day computed 3 years on, every kind)."""
    for headers in (COUNTY, CITY):
        every = client.get("/reminders", headers=headers).json()
        assert every["total"] == len(every["items"]) == (6 if headers is COUNTY else 7)
        assert {i["kind"] for i in every["items"]} == set(rules.KINDS)
        for limit in range(every["total"] + 2):
            cut = client.get("/reminders", params={"limit": limit}, headers=headers).json()
            assert (cut["counts"], cut["total"]) == (every["counts"], every["total"])
            assert cut["items"] == every["items"][:limit], limit
    county = [(i["credit_code"], i["kind"]) for i in client.get("/reminders", headers=COUNTY).json()["items"]]
    assert county == [(OLD, rules.OVERDUE), *((c, rules.OVERDUE) for c in sorted([LATE, TWIN])),  # a tie: by county, then code
                      (NEW, rules.FIRST_OVERDUE), (OLD_SOON, rules.DUE_SOON), (SOON, rules.DUE_SOON)]  # in 20 days, in 30
    assert client.get("/reminders", params={"limit": 1001}, headers=COUNTY).status_code == 422


@pytest.mark.parametrize("today", [date(2027, 2, 28), date(2027, 3, 1), date(2028, 2, 29), date(2026, 12, 31), date(2026, 4, 30)])
def test_the_overdue_boundary_of_the_query_is_the_reminders_own(today: date) -> None:
    """An assessment (no stored due day) or a production start before ``overdue_before`` is overdue, by the day."""
    for months, kind in ((36, rules.OVERDUE), (2, rules.FIRST_OVERDUE)):
        limit = rules.overdue_before(today, months)
        for offset in range(-3, 4):
            day = limit + timedelta(days=offset)
            if months == 36:
                record = EnterpriseRecord(credit_code=SOON, name="x", region_code="141029", employees=1, category="乙", archive_version=1,
                                          latest_version=1, report_version=1, assessed_on=day)
            else:
                record = EnterpriseRecord(credit_code=SOON, name="x", region_code="141029", employees=1, category="乙", archive_version=1,
                                          latest_version=1, production_started_on=day)
            reminder = rules.reminder_for(facts(record), today, 0)
            assert (day < limit) == (reminder is not None and reminder.kind == kind), (today, months, day)


def test_reminders_cut_at_a_due_day_several_month_ends_share_are_still_the_most_urgent(client: TestClient) -> None:
    """3 years after 2024-02-27 … 2024-03-01 (no stored due day): 02-28 and 02-29 are both due 2027-02-28 — the cut
    never falls between them, whichever ``limit``; and 2 months after 12-29 … 01-01 for first assessments alike."""
    from services.registry import views

    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    days = ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01", "2024-02-29", "2024-02-28"]
    with Session(engine) as s:
        for n, day in enumerate(days, start=20):
            archive_classification(uow_of(s), report(code(n, "141081"), day, None, region="141081"))
        for n, day in enumerate(["2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01", "2026-12-31"], start=40):
            industry(s, code(n, "141081"), day, region="141081")
        s.commit()
        for today in (date(2027, 3, 1), date(2027, 3, 5), date(2027, 2, 20)):
            every = views.reminders(s, "141081", today, 30)
            assert every["total"] > 0
            for limit in range(every["total"] + 1):
                cut = views.reminders(s, "141081", today, 30, limit=limit)
                assert (cut["counts"], cut["items"]) == (every["counts"], every["items"][:limit]), (today, limit)
