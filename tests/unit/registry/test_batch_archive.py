"""A batch of classified reports is one transaction with its rows preloaded: reports of one employer in
the same batch still build on each other, exactly as one by one."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import uuid4

from sqlmodel import Session, col, select

from services.registry.adapters.orm import ChangeLogEntry, ClassificationVersion, EnterpriseRecord
from services.registry.bootstrap import bootstrap
from services.registry.service_layer import handlers
from shared.db import OutboxMessage, lookup, preload, remember
from shared.migrations import upgrade
from shared.settings import settings_for
from shared.topics import ASSESSMENTS_CLASSIFIED, CLASSIFICATION_CHANGED
from tests.unit.registry.test_chain import classified
from tests.support import new_credit_code


def registry(tmp_path: Path):
    app = bootstrap(settings_for("registry", data_dir=tmp_path), create_topics=False)
    runtime = app.state.runtime
    upgrade("registry", runtime.engine)
    [subscription] = [s for s in runtime.consumer.subscriptions if s.topic == ASSESSMENTS_CLASSIFIED and s.group_id == "ohs.registry"]
    return runtime, subscription


def test_reports_of_one_employer_in_one_batch_build_on_each_other(tmp_path: Path) -> None:
    runtime, subscription = registry(tmp_path)
    assert subscription.prepare is handlers.preload_archive
    code, other = new_credit_code(), new_credit_code()
    first = classified("丙", date(2026, 3, 1), credit_code=code)
    second = classified("乙", date(2026, 6, 1), credit_code=code)
    again = first.model_copy(update={"event_id": uuid4()})  # the same report classified twice (re-published)
    older = classified("甲", date(2025, 6, 1), credit_code=code)  # arrives last, assessed first: history only
    batch = [first, classified("丙", date(2026, 3, 1), credit_code=other), second, again, older]

    assert runtime.consumer._apply_batch(subscription, batch) == (5, 0)

    with Session(runtime.engine) as session:
        versions = session.exec(select(ClassificationVersion).where(ClassificationVersion.credit_code == code).order_by(col(ClassificationVersion.version))).all()
        assert [(v.version, v.category, v.became_current) for v in versions] == [(1, "丙", True), (2, "乙", True), (3, "甲", False)]
        record = session.get(EnterpriseRecord, code)
        assert (record.category, record.latest_version, record.archive_version) == ("乙", 3, 2)
        announced = [o.key for o in session.exec(select(OutboxMessage).where(OutboxMessage.topic == CLASSIFICATION_CHANGED))]
        assert announced == [code, other, code]  # first archive, first archive, 丙 → 乙
        chain = session.exec(select(ChangeLogEntry).where(ChangeLogEntry.credit_code == code)).all()
        assert len(chain) == 3
    assert runtime.consumer._apply_batch(subscription, batch) == (0, 5)  # the batch redelivered: all seen


def test_a_preloaded_lookup_answers_from_memory_until_the_transaction_ends(tmp_path: Path) -> None:
    runtime, subscription = registry(tmp_path)
    code, absent = new_credit_code(), new_credit_code()
    runtime.consumer._apply_batch(subscription, [classified("丙", date(2026, 3, 1), credit_code=code)])
    with Session(runtime.engine) as session:
        preload(session, EnterpriseRecord, [code, absent])
        held = lookup(session, EnterpriseRecord, code)
        assert held is not None and lookup(session, EnterpriseRecord, absent) is None
        added = EnterpriseRecord.model_validate({**held.model_dump(), "credit_code": absent})
        remember(session, added)
        assert lookup(session, EnterpriseRecord, absent) is added  # what the batch added is found
        session.commit()
        assert session.info.get("ohs_known") is None  # forgotten with the transaction
        assert lookup(session, EnterpriseRecord, absent).credit_code == absent  # from the database now
