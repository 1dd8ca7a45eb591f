"""Reminders (RULES §1) in the registry: the pure rules (the due-soon boundary, overdue, a new
employer's first assessment in calendar months), what the archive keeps for them, the daily sweep
on SQLite with the registry's migrations (idempotent, one ReminderDue each), the cron command, the
service's timer, and GET /reminders (TestClient without the lifespan)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from services.registry import sweep
from services.registry.adapters.orm import EnterpriseRecord, ReminderRecord
from services.registry.adapters.rules import load_industry_catalogues
from services.registry.bootstrap import REMINDER_INTERVAL_S, bootstrap
from services.registry.domain import reminders as rules
from services.registry.domain.exemptions import china_today
from services.registry.service_layer import overrides, reminders
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared import i18n
from shared.auth import issue_token
from shared.contracts import AssessmentClassified, ReminderDue
from shared.db import OutboxMessage, make_engine
from shared.identifiers import credit_code_check_character
from shared.migrations import upgrade
from shared.runtime import use_unit_of_work
from shared.settings import Settings, settings_for
from tests.unit.registry.test_override_handlers import STAFF, classified

uow_of = RegistryUnitOfWork.joining  # the registry's use cases in a session the test owns and commits

D = date.fromisoformat
TOPIC = "ohs.registry.reminder-due"


def code(serial: int, region: str = "141029") -> str:
    body = f"91{region}MA{serial:07d}"
    return body + credit_code_check_character(body)


# --------------------------------------------------------------------------- pure rules


def reported(next_due: str | None, assessed_on: str | None = "2023-06-01", started: str | None = None) -> rules.EmployerFacts:
    return rules.EmployerFacts(code(1), "某公司", "141029", has_report=True, next_assessment_due=D(next_due) if next_due else None,
                               assessed_on=D(assessed_on) if assessed_on else None, production_started_on=D(started) if started else None)


def new_employer(started: str | None) -> rules.EmployerFacts:
    return rules.EmployerFacts(code(2), "某新公司", "141029", has_report=False, production_started_on=D(started) if started else None)


TODAY = D("2026-03-01")


@pytest.mark.parametrize(
    ("next_due", "within", "kind", "days"),
    [
        ("2026-05-30", 90, rules.DUE_SOON, 90),  # exactly N days: due soon
        ("2026-05-31", 90, None, None),  # N + 1 days: not yet
        ("2026-03-01", 90, rules.DUE_SOON, 0),  # due today: due soon, 0 days
        ("2026-03-01", 0, rules.DUE_SOON, 0),  # even with a window of 0 days
        ("2026-03-02", 0, None, None),
        ("2026-02-28", 90, rules.OVERDUE, 1),  # due yesterday: overdue by 1 day
        ("2023-03-01", 90, rules.OVERDUE, 1096),
    ],
)
def test_a_reassessment_is_due_soon_within_n_days_and_overdue_the_day_after(next_due: str, within: int, kind: str | None, days: int | None) -> None:
    reminder = rules.reminder_for(reported(next_due), TODAY, within)
    if kind is None:
        assert reminder is None
    else:
        assert (reminder.kind, reminder.days, reminder.due_on) == (kind, days, D(next_due))


def test_the_reason_says_when_in_words() -> None:
    assert rules.reminder_for(reported("2026-03-01"), TODAY, 90).reason.endswith("：今日到期")
    assert rules.reminder_for(reported("2026-03-31"), TODAY, 90).reason.endswith("：30 日后到期")
    assert rules.reminder_for(reported("2026-02-28"), TODAY, 90).reason.endswith("：已逾期 1 日")
    assert rules.reminder_for(reported("2026-03-01"), TODAY, 90).text("en").endswith(": today")
    assert rules.reminder_for(reported("2026-03-31"), TODAY, 90).text("en").endswith(": in 30 days")
    assert rules.reminder_for(reported("2026-02-28"), TODAY, 90).text("en").endswith(": 1 day overdue")


def test_an_archive_without_a_stored_deadline_falls_back_to_three_years_after_the_assessment() -> None:
    reminder = rules.reminder_for(reported(None, assessed_on="2023-03-01"), TODAY, 90)
    assert (reminder.kind, reminder.due_on, reminder.days) == (rules.DUE_SOON, D("2026-03-01"), 0)
    assert "（2023年3月1日 评估后 3 年）" in reminder.reason and "3 years after the assessment of 2023-03-01" in reminder.text("en")
    leap = rules.reminder_for(reported(None, assessed_on="2024-02-29"), D("2027-03-01"), 90)
    assert (leap.kind, leap.due_on, leap.days) == (rules.OVERDUE, D("2027-02-28"), 1), "calendar years, clamped"
    assert rules.reminder_for(reported(None, assessed_on=None), TODAY, 90) is None


@pytest.mark.parametrize(
    ("started", "today", "due_on", "days"),
    [
        ("2025-12-01", "2026-02-01", "2026-02-01", None),  # the deadline day itself: not yet overdue
        ("2025-12-01", "2026-02-02", "2026-02-01", 1),
        ("2023-12-31", "2024-02-29", "2024-02-29", None),  # end of month, clamped to 29 February (leap year)
        ("2023-12-31", "2024-03-01", "2024-02-29", 1),
        ("2022-12-31", "2023-03-01", "2023-02-28", 1),  # clamped to 28 February
        ("2024-01-31", "2024-03-31", "2024-03-31", None),  # calendar months, not 60 days
        ("2024-01-31", "2024-04-01", "2024-03-31", 1),
        ("2025-06-01", "2026-03-01", "2025-08-01", 212),
    ],
)
def test_a_new_employer_without_a_report_is_overdue_two_calendar_months_after_starting(started: str, today: str, due_on: str, days: int | None) -> None:
    assert rules.first_assessment_due(D(started)) == D(due_on)
    reminder = rules.reminder_for(new_employer(started), D(today), 90)
    if days is None:
        assert reminder is None
    else:
        assert (reminder.kind, reminder.due_on, reminder.days) == (rules.FIRST_OVERDUE, D(due_on), days)
        assert f"投产（{i18n.local_date(started)}）后 2 个月内" in reminder.reason and f"starting production ({started})" in reminder.text("en")


def test_with_a_report_there_is_no_first_assessment_reminder() -> None:
    assert rules.reminder_for(reported("2028-06-01", started="2016-04-01"), TODAY, 90) is None
    assert rules.reminder_for(new_employer(None), TODAY, 90) is None, "no production start known: nothing to remind of"
    with pytest.raises(ValueError):
        rules.reminder_for(reported("2026-03-01"), TODAY, -1)


def test_the_most_urgent_come_first() -> None:
    found = [
        rules.reminder_for(reported("2026-04-01"), TODAY, 90),
        rules.reminder_for(new_employer("2025-06-01"), TODAY, 90),
        rules.reminder_for(reported("2026-02-01"), TODAY, 90),
        rules.reminder_for(reported("2026-03-05"), TODAY, 90),
        rules.reminder_for(reported("2025-02-01"), TODAY, 90),
    ]
    ordered = sorted(found, key=rules.sort_key)  # type: ignore[arg-type]
    assert [(r.kind, r.days) for r in ordered] == [
        (rules.OVERDUE, 393), (rules.OVERDUE, 28), (rules.FIRST_OVERDUE, 212), (rules.DUE_SOON, 4), (rules.DUE_SOON, 31)]


# --------------------------------------------------------------------------- the archive keeps the deadlines


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade("registry", engine)
    yield engine
    engine.dispose()


def report(code_: str, assessed_on: str, next_due: str | None, started: str | None = "2016-04-01", region: str = "141029") -> AssessmentClassified:
    event = classified("乙", D(assessed_on), code=code_, region=region)
    return event.model_copy(update={"next_assessment_due": D(next_due) if next_due else None,
                                    "production_started_on": D(started) if started else None})


def industry(session: Session, code_: str, started: str | None, region: str = "141029") -> None:
    request = overrides.IndustryClassification(code_, "某煤业有限公司", region, ["B0610"], 120, "逾期未提交报告",
                                               production_started_on=D(started) if started else None)
    overrides.classify_by_industry(uow_of(session), load_industry_catalogues(), request, STAFF, D("2026-01-10"))


def test_the_archive_keeps_the_current_reports_deadline_and_the_production_start(engine: Engine) -> None:
    with Session(engine) as s:
        archive_classification(uow_of(s), report(code(1), "2024-06-01", "2027-06-01"))
        archive_classification(uow_of(s), report(code(1), "2023-06-01", "2026-06-01"))  # older, late: history only
        s.commit()
        record = s.get(EnterpriseRecord, code(1))
        assert (record.next_assessment_due, record.production_started_on) == (D("2027-06-01"), D("2016-04-01"))

        industry(s, code(2), "2025-12-01")
        s.commit()
        record = s.get(EnterpriseRecord, code(2))
        assert (record.source, record.next_assessment_due, record.production_started_on) == ("industry", None, D("2025-12-01"))
        assert rules.reminder_for(reminders.facts(record), D("2026-02-02"), 90).kind == rules.FIRST_OVERDUE

        archive_classification(uow_of(s), report(code(2), "2026-02-10", "2029-02-10", started=None))  # its first report arrives
        s.commit()
        record = s.get(EnterpriseRecord, code(2))
        assert (record.next_assessment_due, record.production_started_on) == (D("2029-02-10"), D("2025-12-01")), "the start is kept"
        assert rules.reminder_for(reminders.facts(record), D("2026-03-01"), 90) is None


# --------------------------------------------------------------------------- the sweep


def published(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.topic == TOPIC).order_by(col(OutboxMessage.id))).all()
        return [ReminderDue.model_validate_json(r.payload).model_dump(mode="json") for r in rows]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return sorted((e["credit_code"], e["kind"], e["due_on"], e["days"]) for e in events)


SOON, LATE, NEW, LATER, UNKNOWN, ELSEWHERE = code(1), code(2), code(3), code(4), code(5), code(6, "141024")


@pytest.fixture
def archive(engine: Engine) -> Engine:
    """As of 2026-03-01: due in 30 days, due yesterday, a new employer overdue, due in 200 days,
    an industry default without a production start, and one in 洪洞县 due in 10 days."""
    with Session(engine) as s:
        archive_classification(uow_of(s), report(SOON, "2023-03-31", "2026-03-31"))
        archive_classification(uow_of(s), report(LATE, "2023-02-28", "2026-02-28"))
        industry(s, NEW, "2025-12-15")  # first assessment due 2026-02-15
        archive_classification(uow_of(s), report(LATER, "2023-09-17", "2026-09-17"))
        industry(s, UNKNOWN, None)
        archive_classification(uow_of(s), report(ELSEWHERE, "2023-03-11", "2026-03-11", region="141024"))
        s.commit()
    return engine


def test_the_sweep_sends_each_reminder_once(archive: Engine) -> None:
    first = sweep.run_reminders(archive, D("2026-03-01"), 90)
    assert len(first) == 4
    assert summary(published(archive)) == sorted([
        (SOON, rules.DUE_SOON, "2026-03-31", 30), (LATE, rules.OVERDUE, "2026-02-28", 1),
        (NEW, rules.FIRST_OVERDUE, "2026-02-15", 14), (ELSEWHERE, rules.DUE_SOON, "2026-03-11", 10)])
    event = next(e for e in published(archive) if e["credit_code"] == NEW)
    assert (event["region_code"], event["enterprise_name"], event["producer"]) == ("141029", "某煤业有限公司", "registry")
    assert "2025年12月15日" in event["reason"] and "已逾期 14 日" in event["reason"]
    assert ReminderDue.model_validate(event).text("en").endswith("by 2026-02-15: 14 days overdue")

    assert sweep.run_reminders(archive, D("2026-03-01"), 90) == [], "the same day again: nothing new"
    assert sweep.run_reminders(archive, D("2026-03-02"), 90) == [], "the next day: the same reminders, already sent"
    assert len(published(archive)) == 4
    with Session(archive) as s:
        assert len(s.exec(select(ReminderRecord)).all()) == 4


def test_due_soon_then_overdue_are_two_reminders_and_a_new_report_starts_afresh(archive: Engine) -> None:
    sweep.run_reminders(archive, D("2026-03-01"), 90)
    assert [line.split()[1] for line in sweep.run_reminders(archive, D("2026-04-01"), 90)] == [rules.OVERDUE, rules.OVERDUE]  # SOON, ELSEWHERE
    with Session(archive) as s:
        archive_classification(uow_of(s), report(LATE, "2026-03-20", "2029-03-20"))  # re-assessed: the next one in 3 years
        s.commit()
    assert sweep.run_reminders(archive, D("2026-04-01"), 90) == []
    assert [line.split(":")[0].split() for line in sweep.run_reminders(archive, D("2028-12-20"), 90)] == [
        [LATER, rules.OVERDUE, "2026-09-17"], [LATE, rules.DUE_SOON, "2029-03-20"]]
    kinds = [(e["credit_code"], e["kind"]) for e in published(archive)]
    assert kinds.count((SOON, rules.DUE_SOON)) == kinds.count((SOON, rules.OVERDUE)) == 1
    assert kinds.count((LATE, rules.OVERDUE)) == 1 and kinds.count((LATE, rules.DUE_SOON)) == 1


def test_a_wider_window_finds_more_and_two_sweeps_at_once_send_once(archive: Engine) -> None:
    with Session(archive) as first, Session(archive) as second:
        assert len(reminders.sweep_reminders(uow_of(first), D("2026-03-01"), 200)) == 5  # LATER too
        first.commit()
        assert reminders.sweep_reminders(uow_of(second), D("2026-03-01"), 200) == []  # its claims find them sent
        second.commit()
    assert len(published(archive)) == 5


def test_the_cron_command_runs_both_sweeps(archive: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # the command line speaks Chinese (English under LANG=en_*)
    url = str(archive.url)
    assert sweep.main(["--database-url", url, "--today", "2026-03-01", "--within-days", "15"]) == 0
    out = capsys.readouterr().out
    assert "2026年3月1日：免检变更 0 项" in out and "2026年3月1日：发出提醒 3 条（即将到期：15 日以内）" in out
    assert f"{NEW} first_assessment_overdue 2026-02-15" in out
    assert sweep.main(["--database-url", url, "--today", "2026-03-01"]) == 0
    assert "发出提醒 1 条" in capsys.readouterr().out, "the default window (90 days) adds SOON"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert sweep.main(["--database-url", url, "--today", "2026-03-01"]) == 0
    assert "0 reminder(s) sent for 2026-03-01" in capsys.readouterr().out


def test_ohs_registry_sweep_reminders_runs_the_reminder_sweep_alone(archive: Engine, capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from services.registry.entrypoints import cli

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # English under LANG=en_* (Chinese otherwise)
    argv = ["sweep", "reminders", "--database-url", str(archive.url), "--today", "2026-03-01", "--within-days", "15"]
    assert cli.run(cli.app, argv, "ohs registry") == 0
    out = capsys.readouterr().out
    assert "3 reminder(s) sent for 2026-03-01 (due soon: within 15 days)" in out and "exemption" not in out
    assert cli.run(cli.app, ["sweep", "exemptions", "--database-url", str(archive.url), "--today", "2026-03-01"], "ohs registry") == 0
    assert capsys.readouterr().out == "0 exemption change(s) for 2026-03-01\n"


def test_the_window_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().reminder_within_days == 90
    monkeypatch.setenv("OHS_REMINDER_WITHIN_DAYS", "30")
    assert Settings().reminder_within_days == 30


async def test_the_registry_runs_the_reminder_sweep_on_a_timer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OHS_REMINDER_WITHIN_DAYS", "400")
    app = bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret="x" * 20), create_topics=False)
    runtime = app.state.runtime
    job = {j.name: j for j in runtime.jobs}["reminder-sweep"]
    assert job.interval_s == REMINDER_INTERVAL_S
    upgrade("registry", runtime.engine)
    today = china_today()
    with Session(runtime.engine) as s:
        archive_classification(uow_of(s), report(SOON, (today - timedelta(days=800)).isoformat(), (today + timedelta(days=300)).isoformat()))
        s.commit()
    flushed: list[int] = []  # the relay woken (to publish at once) after a commit that published
    runtime.relay.notify = lambda: flushed.append(1)
    use_unit_of_work(runtime, RegistryUnitOfWork)  # its units of work wake the patched relay
    await job.run()
    await job.run()
    assert flushed == [1], "published at once, and only when something was sent"
    assert [e["days"] for e in published(runtime.engine)] == [300], "the window of 400 days from OHS_REMINDER_WITHIN_DAYS"
    runtime.engine.dispose()


# --------------------------------------------------------------------------- GET /reminders

SECRET = "test-secret-for-the-reminder-tests"


def header(role: str, scope: str) -> dict[str, str]:
    where = {"credit_code": scope} if role == "employer" else {"region_code": scope}
    return {"Authorization": f"Bearer {issue_token(SECRET, role, '张三', subject=f'u-{role}', **where)}"}  # type: ignore[arg-type]


COUNTY, CITY, AUDITOR = header("county", "141029"), header("city", "141000"), header("auditor", "141000")
OTHER_COUNTY, EMPLOYER = header("county", "141024"), header("employer", SOON)


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

    with Session(runtime.engine) as s:
        archive_classification(uow_of(s), report(SOON, day(-1000), day(30)))
        archive_classification(uow_of(s), report(LATE, day(-1100), day(-1)))
        industry(s, NEW, (today - timedelta(days=100)).isoformat())  # 2 months ago and more
        archive_classification(uow_of(s), report(LATER, day(-900), day(200)))
        industry(s, UNKNOWN, None)
        archive_classification(uow_of(s), report(ELSEWHERE, day(-1000), day(0), region="141024"))
        s.commit()
    yield TestClient(app)  # not entered: no lifespan, no Kafka
    runtime.engine.dispose()


def listed(response: Any) -> list[tuple[str, str, int]]:
    assert response.status_code == 200, response.text
    return [(i["credit_code"], i["kind"], i["days"]) for i in response.json()["items"]]


def test_county_staff_list_their_reminders_most_urgent_first(client: TestClient) -> None:
    response = client.get("/reminders", headers=COUNTY)
    first_due = rules.first_assessment_due(china_today() - timedelta(days=100))
    assert listed(response) == [(LATE, rules.OVERDUE, 1), (NEW, rules.FIRST_OVERDUE, (china_today() - first_due).days),
                                (SOON, rules.DUE_SOON, 30)]
    body = response.json()
    assert (body["region_code"], body["within_days"], body["today"]) == ("141029", 90, china_today().isoformat())
    assert body["counts"] == {rules.DUE_SOON: 1, rules.OVERDUE: 1, rules.FIRST_OVERDUE: 1}
    item = body["items"][2]
    assert (item["enterprise_name"], item["region_code"], item["sent_at"]) == ("乡宁县示例水泥有限公司", "141029", None)
    assert listed(client.get("/reminders", params={"within_days": 200}, headers=COUNTY))[-1] == (LATER, rules.DUE_SOON, 200)
    assert listed(client.get("/reminders", params={"within_days": 0}, headers=COUNTY)) == listed(response)[:2]
    english = client.get("/reminders", headers={**COUNTY, "Accept-Language": "en"}).json()["items"]
    assert english[0]["reason"] != body["items"][0]["reason"] and english[0]["reason"].isascii()  # the reason in English on request


def test_city_and_auditor_see_every_county_of_the_city(client: TestClient) -> None:
    assert {c for c, _, _ in listed(client.get("/reminders", headers=CITY))} == {SOON, LATE, NEW, ELSEWHERE}
    assert listed(client.get("/reminders", params={"region_code": "141024"}, headers=AUDITOR)) == [(ELSEWHERE, rules.DUE_SOON, 0)]


def test_the_list_shows_when_the_sweep_sent_a_reminder(client: TestClient) -> None:
    sweep.run_reminders(client.app.state.runtime.engine, china_today(), 90)  # type: ignore[attr-defined]
    items = client.get("/reminders", headers=COUNTY).json()["items"]
    assert all(i["sent_at"] for i in items)
    assert all(i["sent_at"] is None for i in client.get("/reminders", params={"within_days": 365}, headers=COUNTY).json()["items"]
               if i["credit_code"] == LATER)


@pytest.mark.parametrize(
    ("headers", "params", "status"),
    [
        (EMPLOYER, {}, 403),
        (OTHER_COUNTY, {"region_code": "141029"}, 404),
        (COUNTY, {"region_code": "141000"}, 404),
        (CITY, {"region_code": "140000"}, 404),
        (COUNTY, {"region_code": "14102"}, 422),
        (COUNTY, {"within_days": -1}, 422),
        (COUNTY, {"within_days": 3651}, 422),
        ({}, {}, 401),
    ],
)
def test_who_may_list_reminders(client: TestClient, headers: dict[str, str], params: dict[str, Any], status: int) -> None:
    response = client.get("/reminders", params=params, headers=headers)
    assert response.status_code == status, response.text
    if status in (403, 404):
        assert response.json()["detail"]


def test_an_industry_classification_may_carry_the_production_start(client: TestClient) -> None:
    started = (china_today() - timedelta(days=70)).isoformat()
    body = {"name": "乡宁县某新煤业", "region_code": "141029", "industry_codes": ["B0610"], "employees": 40, "reason": "新投产, 未评估",
            "production_started_on": started}
    new_code = code(7)
    assert client.post(f"/enterprises/{new_code}/industry-classification", json=body, headers=COUNTY).status_code == 201
    assert client.get(f"/enterprises/{new_code}", headers=COUNTY).json()["production_started_on"] == started
    assert (new_code, rules.FIRST_OVERDUE) in [(c, k) for c, k, _ in listed(client.get("/reminders", headers=COUNTY))]
