"""Reminders on PostgreSQL: sweeps running at once (several registry processes, the timer and
cron) send each reminder once — the claim is an INSERT … ON CONFLICT DO NOTHING."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlmodel import Session, select

from services.registry import sweep
from services.registry.adapters.orm import ReminderRecord
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.db import OutboxMessage, make_engine
from shared.migrations import upgrade
from tests.unit.registry.test_reminders import code, report

uow_of = RegistryUnitOfWork.joining  # the registry's use cases in a session the test owns and commits

pytestmark = pytest.mark.integration


def test_concurrent_sweeps_send_each_reminder_once(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade("registry", engine)
    with Session(engine) as session:
        for serial in range(1, 41):  # 40 employers, every one overdue on 2026-03-01
            archive_classification(uow_of(session), report(code(serial), "2023-01-15", "2026-01-15"))
        session.commit()

    with ThreadPoolExecutor(6) as pool:
        sent = list(pool.map(lambda _: sweep.run_reminders(engine, date(2026, 3, 1), 90), range(6)))

    assert sum(len(lines) for lines in sent) == 40
    with Session(engine) as session:
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.topic == "ohs.registry.reminder-due")).all()) == 40
        assert len(session.exec(select(ReminderRecord)).all()) == 40
    assert sweep.run_reminders(engine, date(2026, 3, 1), 90) == []
    engine.dispose()
