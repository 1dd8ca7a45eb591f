"""The agency's figures per county and period: classification coverage at the end of the period,
shortcomings raised / cleared / overdue, 风险化解率, screenings by outcome, penalty and no-penalty
decisions — counted from the registry's own projection and archive, the same in memory and in SQL,
over HTTP for staff in scope, and as an .xlsx with the same numbers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from services.registry.adapters.orm import ClassificationVersion, OverrideRecord
from services.registry.adapters.rules import load_industry_catalogues, load_portrait_rules, load_region_tree
from services.registry.adapters.xlsx import FIGURES_SHEET
from services.registry.bootstrap import bootstrap
from services.registry.domain.figures import FIGURES, PeriodProblem, period, value_of
from services.registry.service_layer import figures, overrides, portrait
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import PenaltyDecided, RectificationProgressed, RuleSetRef, ScreeningRecorded, ScreeningResult, Shortcoming, TraceEntry
from shared.dates import CHINA, china_today
from shared.migrations import upgrade
from shared.settings import settings_for
from tests.unit.registry.fakes import FakeUnitOfWork
from tests.unit.registry.test_override_handlers import classified
from tests.unit.registry.test_override_http import SECRET, code, header

A, B, C, D = code(901), code(902), code(903), code(904, "141024")  # 乡宁县 ×3, 洪洞县
RULES = load_portrait_rules()
TREE = load_region_tree()
_IDS = UUID("3c1d7a52-1e0f-4b7a-9d7e-6a5b4c3d2e1f")
Q1 = ("2026-01-01", "2026-03-31")


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA)


def step(credit_code: str, name: str, shortcoming_code: str, stage: str, on: str, status: str, region: str = "141029") -> RectificationProgressed:
    return RectificationProgressed(
        producer="registry", credit_code=credit_code, item_id=uuid5(_IDS, f"item|{name}"), region_code=region, shortcoming_code=shortcoming_code,
        shortcoming_text=f"{shortcoming_code} 的整改", submission_id=uuid5(_IDS, f"report|{credit_code}"), step=stage,  # type: ignore[arg-type]
        status=status, on=date.fromisoformat(on), deadline=date(2026, 3, 16), actor="system", occurred_at=at(on),  # type: ignore[arg-type]
    )


def screened(credit_code: str, on: str, outcomes: dict[str, str], region: str = "141029", report: str = "first", hour: int = 10) -> ScreeningRecorded:
    submission = uuid5(_IDS, f"report|{credit_code}|{report}")
    results = [
        ScreeningResult(
            screening_id=uuid5(_IDS, f"screening|{submission}|{shortcoming}|{on}"), outcome=outcome,  # type: ignore[arg-type]
            shortcoming=Shortcoming(code=shortcoming, kind="checklist" if shortcoming.startswith("checklist") else shortcoming.split(":")[0],  # type: ignore[arg-type]
                                    subject=shortcoming.split(":")[1] if ":" in shortcoming else None, text=shortcoming),
            item_code="70-1" if outcome == "eligible_if_corrected" else None, trace=[TraceEntry(rule="附件5", detail=outcome)],
        )
        for shortcoming, outcome in outcomes.items()
    ]
    return ScreeningRecorded(producer="penalty", credit_code=credit_code, submission_id=submission, region_code=region,
                             screened_on=date.fromisoformat(on), results=results, occurred_at=at(on, hour),
                             rule_set=RuleSetRef(jurisdiction="CN", version="2021.1", effective_from=date(2021, 7, 15), provisional=True))


def decided(credit_code: str, decision: str, on: str, case: str, region: str = "141029") -> PenaltyDecided:
    return PenaltyDecided(producer="penalty", credit_code=credit_code, case_id=uuid5(_IDS, f"case|{case}"), item_code="70-1",
                          decision=decision, reasons=[], trace=[], case_code=case, region_code=region, occurred_at=at(on, 16))  # type: ignore[arg-type]


def events() -> list[Any]:
    return [
        step(A, "x1", "checklist:4.3", "raised", "2026-03-02", "open"),
        step(A, "x2", "test_expired:矽尘", "raised", "2026-03-02", "open"),
        step(A, "x3", "publicity_short", "raised", "2026-03-02", "open"),
        step(A, "y", "checklist:6.2", "raised", "2025-12-01", "open"),  # raised last year, cleared in the period
        step(A, "y", "checklist:6.2", "cleared", "2026-01-10", "cleared"),
        step(A, "x2", "test_expired:矽尘", "overdue", "2026-03-17", "overdue"),
        step(A, "x1", "checklist:4.3", "cleared", "2026-03-20", "cleared"),
        step(A, "x2", "test_expired:矽尘", "cleared", "2026-04-05", "cleared"),  # after the period: still overdue at its end
        step(D, "z", "checklist:7.1", "raised", "2026-02-10", "open", "141024"),
        step(D, "z", "checklist:7.1", "overdue", "2026-02-25", "overdue", "141024"),
        screened(A, "2026-03-02", {"checklist:4.3": "eligible_if_corrected", "test_expired:矽尘": "not_eligible", "publicity_short": "no_violation"}),
        screened(A, "2026-03-03", {"publicity_short": "not_eligible"}, hour=9),  # screened again: counts once, with its latest outcome
        screened(A, "2025-12-01", {"checklist:6.2": "eligible_if_corrected"}, report="older"),  # before the period
        screened(D, "2026-02-10", {"checklist:7.1": "not_eligible"}, "141024"),
        decided(A, "no_penalty", "2026-03-25", "XN-2026-0042"),
        decided(A, "penalty", "2025-11-01", "XN-2025-0007"),  # before the period
        decided(D, "no_penalty", "2026-02-20", "HT-2026-0003", "141024"),
        decided(D, "penalty", "2026-03-30", "HT-2026-0009", "141024"),
    ]


def feed(uow: Any) -> None:
    """The archive (A and D from reports in February, B from a report in April, C by industry in January), then
    the portrait group's handlers for every event."""
    for credit_code, region in ((A, "141029"), (B, "141029"), (D, "141024")):
        archive_classification(uow, classified("乙", date(2026, 1, 20), code=credit_code, region=region))
    request = overrides.IndustryClassification(C, "乡宁县某煤业有限公司", "141029", ["B0610"], 120, "逾期未提交报告")
    overrides.classify_by_industry(uow, load_industry_catalogues(), request, "乡宁县 张三", date(2026, 1, 15))
    for event in events():
        if isinstance(event, RectificationProgressed):
            portrait.rectification_progressed(uow, event, RULES)
        elif isinstance(event, ScreeningRecorded):
            portrait.screened(uow, event)
        else:
            portrait.penalty_decided(uow, event, RULES)


ARCHIVED_ON = {A: at("2026-02-01"), B: at("2026-04-10"), C: at("2026-01-15"), D: at("2026-02-01")}


def backdate(versions: list[ClassificationVersion], industry: list[OverrideRecord]) -> None:
    """The archive's rows recorded on the days of the story (the handlers record them now)."""
    for row in [*versions, *industry]:
        row.recorded_at = ARCHIVED_ON[row.credit_code]


def row_of(result: dict[str, Any], region_code: str) -> dict[str, Any]:
    return next(r for r in result["rows"] if r["region_code"] == region_code)


XIANGNING_Q1 = {
    "region_code": "141029", "region_name": "乡宁县", "listed": True,
    "employers_known": 2, "employers_classified": 1, "classification_coverage": 0.5,  # A and C known by 31 March, B only in April
    "shortcomings_raised": 3, "shortcomings_cleared": 2, "shortcomings_overdue": 1, "risk_resolution_rate": 0.6667,
    "screenings": {"eligible_if_corrected": 1, "not_eligible": 2, "no_violation": 0},
    "no_penalty_decisions": 1, "penalty_decisions": 0,
}
HONGTONG_Q1 = {
    "region_code": "141024", "region_name": "洪洞县", "listed": True,
    "employers_known": 1, "employers_classified": 1, "classification_coverage": 1.0,
    "shortcomings_raised": 1, "shortcomings_cleared": 0, "shortcomings_overdue": 1, "risk_resolution_rate": 0.0,
    "screenings": {"eligible_if_corrected": 0, "not_eligible": 1, "no_violation": 0},
    "no_penalty_decisions": 1, "penalty_decisions": 1,
}


def in_memory() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    feed(uow)
    backdate(uow.versions.rows, uow.overrides.rows)
    return uow


PERIODS = (Q1, ("2026-01-01", "2026-03-16"), ("2026-01-01", "2026-06-30"), ("2025-01-01", "2025-12-31"))


def test_the_figures_per_county_and_period() -> None:
    uow = in_memory()

    def counted(region: str, start: str, end: str) -> dict[str, Any]:
        return figures.figures(uow, TREE, region, date.fromisoformat(start), date.fromisoformat(end))  # type: ignore[arg-type]

    city = counted("141000", *Q1)
    assert row_of(city, "141029") == XIANGNING_Q1 and row_of(city, "141024") == HONGTONG_Q1
    assert len(city["rows"]) == len(TREE.counties_under("141000")) and row_of(city, "141002")["classification_coverage"] is None  # none known
    assert row_of(city, "141002")["risk_resolution_rate"] is None  # none raised
    assert (city["totals"]["employers_known"], city["totals"]["classification_coverage"], city["totals"]["risk_resolution_rate"]) == (3, 0.6667, 0.5)
    assert city["period"] == {"from": "2026-01-01", "to": "2026-03-31"} and "解除的整改事项" in city["definitions"]["shortcomings_cleared"]
    english = figures.figures(uow, TREE, "141000", date(2026, 1, 1), date(2026, 3, 31), locale="en")  # type: ignore[arg-type]
    assert "cleared" in english["definitions"]["shortcomings_cleared"] and english["rows"] == city["rows"]

    # a county's own figures only; the period decides what counts
    assert counted("141029", *Q1)["rows"] == [XIANGNING_Q1]
    before_overdue = row_of(counted("141029", "2026-01-01", "2026-03-16"), "141029")
    assert (before_overdue["shortcomings_cleared"], before_overdue["shortcomings_overdue"], before_overdue["risk_resolution_rate"]) == (1, 0, 0.3333)
    half = row_of(counted("141029", "2026-01-01", "2026-06-30"), "141029")
    assert (half["employers_known"], half["employers_classified"], half["classification_coverage"]) == (3, 2, 0.6667)
    assert (half["shortcomings_cleared"], half["shortcomings_overdue"]) == (3, 0)  # x2 cleared on 5 April
    last_year = row_of(counted("141029", "2025-01-01", "2025-12-31"), "141029")
    assert (last_year["employers_known"], last_year["shortcomings_raised"], last_year["penalty_decisions"]) == (0, 1, 1)
    assert last_year["screenings"]["eligible_if_corrected"] == 1 and last_year["classification_coverage"] is None


def test_a_period_is_checked_and_defaults_to_this_year_so_far() -> None:
    today = date(2026, 12, 6)
    assert (period(None, None, today).start, period(None, None, today).end) == (date(2026, 1, 1), today)
    assert period(date(2026, 3, 1), None, today).end == today and period(None, date(2025, 6, 30), today).start == date(2025, 1, 1)
    for start, end, field in ((date(2026, 4, 1), date(2026, 3, 31), "from"), (date(2016, 1, 1), date(2026, 1, 1), "to"),
                              (date(2027, 1, 1), None, "from")):
        with pytest.raises(PeriodProblem) as refused:
            period(start, end, today)
        assert refused.value.field == field
    assert period(date(2016, 1, 2), date(2026, 1, 1), today).start == date(2016, 1, 2)  # 10 years less a day


# --------------------------------------------------------------------------- HTTP and SQL


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret=SECRET), create_topics=False)
    runtime = app.state.runtime
    upgrade("registry", runtime.engine)
    with Session(runtime.engine) as session:
        feed(RegistryUnitOfWork.joining(session))
        session.flush()
        backdate(list(session.exec(select(ClassificationVersion))),
                 list(session.exec(select(OverrideRecord).where(col(OverrideRecord.kind) == "industry_default"))))
        session.commit()
    yield TestClient(app)  # not entered: no lifespan, no Kafka
    runtime.engine.dispose()


def test_the_figures_over_http_for_the_staff_in_scope_and_as_a_workbook(client: TestClient) -> None:
    params = {"from": Q1[0], "to": Q1[1]}
    county, city = header("county", "141029"), header("city", "141000")
    mine = client.get("/figures", params=params, headers=county)
    assert mine.status_code == 200, mine.text
    assert mine.json()["rows"] == [XIANGNING_Q1]  # SQL counts what the in-memory repository counts
    whole = client.get("/figures", params=params, headers=city).json()
    assert row_of(whole, "141029") == XIANGNING_Q1 and row_of(whole, "141024") == HONGTONG_Q1
    memory = in_memory()
    for start, end in PERIODS:  # SQL counts what the in-memory repository counts, whatever the period
        expected = figures.figures(memory, TREE, "141000", date.fromisoformat(start), date.fromisoformat(end))  # type: ignore[arg-type]
        assert client.get("/figures", params={"from": start, "to": end}, headers=city).json() == expected
    one = client.get("/figures", params={**params, "region_code": "141024"}, headers=city).json()
    assert one["rows"] == [HONGTONG_Q1]
    assert client.get("/figures", params={**params, "region_code": "141029"}, headers=header("auditor", "141029")).status_code == 200
    default = client.get("/figures", headers=county).json()
    assert default["period"] == {"from": f"{china_today().year}-01-01", "to": china_today().isoformat()}

    # another county's figures: 404 (as the reports answer); an employer: 403
    assert client.get("/figures", params={"region_code": "141024"}, headers=county).status_code == 404
    assert client.get("/figures", params={"region_code": "130000"}, headers=city).status_code == 404
    assert client.get("/figures", headers=header("employer", A)).status_code == 403
    assert client.get("/figures").status_code == 401

    # a bad period: 422 naming the field
    for bad, field in (({"from": "2026-04-01", "to": "2026-03-31"}, "from"), ({"from": "2010-01-01", "to": "2026-03-31"}, "to"),
                       ({"from": "2026-13-01"}, "from"), ({"to": "31/03/2026"}, "to"), ({"region_code": "14x"}, "region_code")):
        answer = client.get("/figures", params=bad, headers=county)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["errors"][0]["field"] == field, answer.json()

    # the workbook holds the same numbers, the rates as percentages, and the definitions
    book = client.get("/figures.xlsx", params=params, headers=city)
    assert book.status_code == 200 and book.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "figures-141000-20260101-20260331.xlsx" in book.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(book.content))
    sheet = workbook[FIGURES_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("地区代码", "地区", "用人单位数") and len(rows[0]) == 2 + len(FIGURES)
    by_code = {r[0]: r for r in rows[1:]}
    for expected in (XIANGNING_Q1, HONGTONG_Q1):
        assert list(by_code[expected["region_code"]][2:]) == [value_of(expected, key) for key, _, _ in FIGURES]
    assert rows[-1][1] == "合计" and rows[-1][2:4] == (3, 2)
    assert sheet.cell(row=2, column=2 + [k for k, _, _ in FIGURES].index("classification_coverage") + 1).number_format == "0.00%"
    notes = {r[0]: r[1] for r in workbook["说明"].iter_rows(values_only=True)}
    assert notes["统计期间"].startswith("2026年1月1日至2026年3月31日") and notes["风险化解率"].startswith("统计期间内解除的整改事项数")
    assert client.get("/figures.xlsx", params={"from": "2026-04-01", "to": "2026-03-31"}, headers=city).status_code == 422
    assert client.get("/figures.xlsx", params={"region_code": "141024"}, headers=county).status_code == 404
