"""免检 in the registry: the period rules, grant and revoke, the daily sweep (idempotent, the
valid_until day still exempt, the next not), the cron command and the service's timer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from services.registry import sweep
from services.registry.adapters.orm import ExemptionRecord
from services.registry.domain import exemptions as rules
from services.registry.service_layer import chain_log, exemptions
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import ExemptionChanged
from shared.db import OutboxMessage, make_engine
from shared.migrations import upgrade
from shared.runtime import PeriodicJob, use_unit_of_work
from tests.support import eventually
from tests.unit.registry.test_override_handlers import CODE, STAFF, classified

uow_of = RegistryUnitOfWork.joining  # the registry's use cases in a session the test owns and commits

D = date.fromisoformat


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade("registry", engine)
    with Session(engine) as s:
        archive_classification(uow_of(s), classified("甲", D("2026-06-01")))
        s.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


def published(session: Session) -> list[dict]:
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.topic == "ohs.registry.exemption-changed").order_by(col(OutboxMessage.id)))
    return [json.loads(r.payload) for r in rows]


def grant(session: Session, valid_from: str, valid_until: str, today: str) -> ExemptionRecord:
    row = exemptions.grant(uow_of(session), CODE, valid_from=D(valid_from), valid_until=D(valid_until), reason="信用 A 级",
                           basis="晋卫信〔2026〕3号", actor=STAFF, today=D(today))
    session.commit()
    return row


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("status", "today", "action"),
    [
        ("granted", "2026-11-30", None),  # before valid_from
        ("granted", "2026-12-01", "start"),  # the first day
        ("granted", "2026-12-31", "start"),  # the last day, if the sweep missed the others
        ("granted", "2027-01-01", "lapse"),  # never in force, now past
        ("in_force", "2026-12-31", None),  # valid_until: still exempt
        ("in_force", "2027-01-01", "end"),  # the next day: not
        ("revoked", "2027-01-01", None),
        ("expired", "2027-01-02", None),
    ],
)
def test_what_the_sweep_does_on_a_day(status: str, today: str, action: str | None) -> None:
    assert rules.due(status, D("2026-12-01"), D("2026-12-31"), D(today)) == action


def test_the_period_includes_both_ends() -> None:
    assert rules.covers(D("2026-12-01"), D("2026-12-31"), D("2026-12-31"))
    assert not rules.covers(D("2026-12-01"), D("2026-12-31"), D("2027-01-01"))
    assert rules.period_problem(D("2026-12-02"), D("2026-12-01"), D("2026-11-01")) == "valid_until 2026-12-01 is before valid_from 2026-12-02"
    assert "has passed" in (rules.period_problem(D("2026-10-01"), D("2026-10-31"), D("2026-11-01")) or "")
    assert rules.period_problem(D("2026-10-01"), D("2026-11-01"), D("2026-11-01")) is None
    assert rules.overlaps(D("2026-01-01"), D("2026-06-30"), D("2026-06-30"), D("2026-12-31"))
    assert not rules.overlaps(D("2026-01-01"), D("2026-06-29"), D("2026-06-30"), D("2026-12-31"))


def test_today_is_chinas() -> None:
    assert rules.china_today(datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)) == D("2027-01-01")
    assert rules.china_today(datetime(2026, 12, 31, 15, 59, tzinfo=timezone.utc)) == D("2026-12-31")


# --------------------------------------------------------------------------- grant, revoke


def test_a_grant_starting_today_is_announced_at_once_and_logged(session: Session) -> None:
    row = grant(session, "2026-11-01", "2026-12-31", "2026-11-20")
    assert row.status == "in_force"
    [event] = published(session)
    assert (event["exempt"], event["exemption_id"], event["region_code"], event["valid_until"]) == (True, row.id, "141029", "2026-12-31")
    entry = chain_log.region_entries(session, "141029")[-1]
    assert (entry.change, entry.actor, entry.category_before, entry.category_after) == ("exemption_granted", STAFF, "甲", "甲")
    assert entry.payload["exemption_id"] == row.id and chain_log.verify_region(session, "141029").ok


def test_a_revocation_ends_it_once(session: Session) -> None:
    row = grant(session, "2026-11-01", "2026-12-31", "2026-11-20")
    exemptions.revoke(uow_of(session), CODE, row.id, reason="发现违法行为", actor=STAFF)
    session.commit()
    assert [e["exempt"] for e in published(session)] == [True, False]
    assert session.get(ExemptionRecord, row.id).status == "revoked"
    with pytest.raises(exemptions.ExemptionConflict, match="already ended"):
        exemptions.revoke(uow_of(session), CODE, row.id, reason="again", actor=STAFF)
    with pytest.raises(LookupError):
        exemptions.revoke(uow_of(session), CODE, "no-such-id", reason="x", actor=STAFF)


def test_a_future_grant_revoked_before_it_starts_announces_nothing(session: Session) -> None:
    row = grant(session, "2026-12-01", "2026-12-31", "2026-11-20")
    assert row.status == "granted" and published(session) == []
    exemptions.revoke(uow_of(session), CODE, row.id, reason="撤销", actor=STAFF)
    session.commit()
    assert published(session) == []
    assert exemptions.sweep_exemptions(uow_of(session), D("2026-12-01")) == [], "a revoked exemption never starts"


def test_one_exemption_at_a_time_and_a_usable_period(session: Session) -> None:
    first = grant(session, "2026-11-01", "2026-12-31", "2026-11-20")
    with pytest.raises(exemptions.ExemptionConflict, match=f"overlaps exemption {first.id}"):
        grant(session, "2026-12-31", "2027-03-31", "2026-11-20")
    grant(session, "2027-01-01", "2027-03-31", "2026-11-20")  # right after it: fine
    with pytest.raises(exemptions.InvalidPeriod, match="before valid_from"):
        grant(session, "2027-06-01", "2027-05-01", "2026-11-20")
    with pytest.raises(exemptions.InvalidPeriod, match="has passed"):
        grant(session, "2026-01-01", "2026-02-01", "2026-11-20")


# --------------------------------------------------------------------------- the sweep


def test_the_sweep_starts_on_valid_from_and_ends_the_day_after_valid_until_idempotently(session: Session) -> None:
    row = grant(session, "2026-12-01", "2026-12-31", "2026-11-20")
    assert exemptions.sweep_exemptions(uow_of(session), D("2026-11-30")) == []
    started = exemptions.sweep_exemptions(uow_of(session), D("2026-12-01"))
    session.commit()
    assert len(started) == 1 and "免检（2026年12月1日 至 2026年12月31日）开始生效" in started[0]
    assert exemptions.sweep_exemptions(uow_of(session), D("2026-12-01")) == [], "twice the same day: nothing new"
    assert exemptions.sweep_exemptions(uow_of(session), D("2026-12-31")) == [], "valid_until: still exempt"
    ended = exemptions.sweep_exemptions(uow_of(session), D("2027-01-01"))
    session.commit()
    assert len(ended) == 1 and "已于 2026年12月31日 期满" in ended[0]
    assert published(session)[-1]["reason"] == "免检（2026年12月1日 至 2026年12月31日）已于 2026年12月31日 期满"
    assert ExemptionChanged.model_validate(published(session)[-1]).text("en") == "exemption 2026-12-01 – 2026-12-31 expired after 2026-12-31"
    assert exemptions.sweep_exemptions(uow_of(session), D("2027-01-01")) == [] and exemptions.sweep_exemptions(uow_of(session), D("2027-01-02")) == []
    session.commit()
    assert [e["exempt"] for e in published(session)] == [True, False]
    assert session.get(ExemptionRecord, row.id).status == "expired"
    log = [(e.change, e.actor) for e in chain_log.region_entries(session, "141029")]
    assert log[-2:] == [("exemption_started", "system:registry exemption sweep 2026-12-01"),
                        ("exemption_expired", "system:registry exemption sweep 2027-01-01")]
    assert chain_log.verify_region(session, "141029").ok


def test_an_exemption_the_sweep_never_saw_in_force_lapses_silently(session: Session) -> None:
    grant(session, "2026-12-01", "2026-12-02", "2026-11-20")
    assert "未及生效即已过期" in exemptions.sweep_exemptions(uow_of(session), D("2026-12-05"))[0]
    session.commit()
    assert published(session) == []


def test_a_second_sweep_racing_the_first_announces_nothing_twice(engine: Engine) -> None:
    with Session(engine) as s:
        grant(s, "2026-12-01", "2026-12-31", "2026-11-20")
    with Session(engine) as first, Session(engine) as second:
        rows_seen_by_second = second.exec(select(ExemptionRecord)).all()  # it read the row as granted
        assert rows_seen_by_second[0].status == "granted"
        assert len(exemptions.sweep_exemptions(uow_of(first), D("2026-12-01"))) == 1
        first.commit()
        assert exemptions.sweep_exemptions(uow_of(second), D("2026-12-01")) == []  # its claim finds the row already moved
        second.commit()
    with Session(engine) as s:
        assert [e["exempt"] for e in published(s)] == [True]


def test_the_cron_command_sweeps_a_database(engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # the command line speaks Chinese (English under LANG=en_*)
    with Session(engine) as s:
        grant(s, "2026-12-01", "2026-12-31", "2026-11-20")
    url = str(engine.url)
    assert sweep.main(["--database-url", url, "--today", "2026-12-01"]) == 0
    assert "2026年12月1日：免检变更 1 项" in capsys.readouterr().out
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert sweep.main(["--database-url", url, "--today", "2026-12-01"]) == 0
    assert "0 exemption change(s) for 2026-12-01" in capsys.readouterr().out
    assert sweep.run(engine, D("2027-01-01")) and sweep.run(engine, D("2027-01-01")) == []


async def test_a_periodic_job_runs_at_start_and_again_after_a_failure() -> None:
    calls: list[int] = []

    async def job() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database is away")

    task = asyncio.create_task(PeriodicJob("test", 0.01, job).loop())
    await eventually(lambda: len(calls) >= 3, timeout=5, what="a third run of the job", interval=0.01)
    task.cancel()
    assert len(calls) >= 3


async def test_the_registry_runs_the_sweep_on_a_timer(tmp_path: Path) -> None:
    from services.registry.bootstrap import SWEEP_INTERVAL_S, bootstrap
    from shared.settings import settings_for

    app = bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret="x" * 20), create_topics=False)
    runtime = app.state.runtime
    job = {j.name: j for j in runtime.jobs}["exemption-sweep"]
    assert job.interval_s == SWEEP_INTERVAL_S
    upgrade("registry", runtime.engine)
    today = rules.china_today()
    with Session(runtime.engine) as s:
        archive_classification(uow_of(s), classified("甲", D("2026-06-01")))
        s.add(ExemptionRecord(id="7d3c1c8e-1f7e-4a53-9a53-0d2f6c1b5e11", credit_code=CODE, region_code="141029", valid_from=today,
                              valid_until=today, reason="r", basis="b", status="granted", granted_by=STAFF))
        s.commit()
    flushed: list[int] = []  # the relay woken (to publish at once) after a commit that published
    runtime.relay.notify = lambda: flushed.append(1)
    use_unit_of_work(runtime, RegistryUnitOfWork)  # its units of work wake the patched relay
    await job.run()
    await job.run()
    with Session(runtime.engine) as s:
        assert [e["exempt"] for e in published(s)] == [True]
    assert flushed == [1], "published once, after the sweep that changed something"
    runtime.engine.dispose()
