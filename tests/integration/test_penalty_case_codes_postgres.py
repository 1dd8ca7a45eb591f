"""行政行为码 on a real PostgreSQL: cases created concurrently in one region and year get distinct
codes whose sequences run 1…N without gaps (the counter row is locked inside each case's transaction)."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from sqlmodel import Session, select

from services.penalty.adapters.orm import Case, CaseCodeCounter
from services.penalty.domain.case_codes import case_code_problem, parts
from services.penalty.service_layer import handlers
from services.penalty.service_layer.unit_of_work import PenaltyUnitOfWork
from shared.contracts import ViolationRecorded
from shared.dates import china_today
from shared.db import make_engine
from shared.migrations import upgrade
from tests.support import new_credit_code

pytestmark = pytest.mark.integration

THREADS, PER_THREAD = 8, 25


def test_codes_are_unique_and_gapless_under_concurrent_case_creation(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade("penalty", engine)
    rules = handlers.Rulebook.load()
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def create() -> None:
        try:
            start.wait()
            for _ in range(PER_THREAD):
                with PenaltyUnitOfWork(engine) as uow:
                    event = ViolationRecorded(producer="test", credit_code=new_credit_code("141029"), case_id=uuid.uuid4(), item_code="72-1",
                                              found_on=date(2026, 1, 5), harm="none", corrected_on=None, rectification_deadline=None)
                    handlers.record_violation(uow, event, rules, actor="并发测试")  # commits
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    year = china_today().year
    with Session(engine) as session:
        codes = [c.case_code for c in session.exec(select(Case))]
        counter = session.get(CaseCodeCounter, ("141029", year))
    engine.dispose()
    assert len(codes) == THREADS * PER_THREAD == len(set(codes))
    assert all(case_code_problem(code) is None for code in codes)
    assert sorted(parts(code)[2] for code in codes if code) == list(range(1, THREADS * PER_THREAD + 1))
    assert counter is not None and counter.last_sequence == THREADS * PER_THREAD
