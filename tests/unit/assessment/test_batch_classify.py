"""A batch of submitted reports is classified in one transaction with its reads preloaded; what comes
out is exactly what classifying them one by one gives — reports of one employer in the same batch
included (the second is not its employer's first assessment)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, col, select

from bench.province import synthetic_reports
from services.assessment.bootstrap import bootstrap
from services.assessment.service_layer import handlers
from shared.auth import verify_token
from shared.contracts import Report, ReportSubmitted
from shared.dates import china_today
from shared.db import OutboxMessage
from shared.topics import REPORTS_SUBMITTED
from tests.support import TEST_AUTH_SECRET, app_without_broker, token_for

PROVINCE = verify_token(TEST_AUTH_SECRET, token_for("province", "140000"))


def submitted(folder: Path) -> tuple[object, list[ReportSubmitted]]:
    """An assessment service with 40 province reports accepted (the last five again, as later reports of
    the same employers), and the ReportSubmitted events its outbox holds."""
    runtime = app_without_broker(bootstrap, "assessment", folder).state.runtime
    reports = [Report.model_validate(r) for r in synthetic_reports(40)]
    later = [r.model_copy(update={"enterprise": r.enterprise.model_copy(update={"employees": r.enterprise.employees + 1})})
             for r in reports[-5:]]
    with runtime.uow() as uow:
        handlers.submit_reports(uow, reports, PROVINCE, china_today())
    with runtime.uow() as uow:
        for report in later:  # corrected (one more employee) and sent again with a new submission id
            handlers.submit_reports(uow, [json.loads(report.model_dump_json(exclude={"submission_id"}))], PROVINCE, china_today())
    with Session(runtime.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.topic == REPORTS_SUBMITTED).order_by(col(OutboxMessage.id))).all()
        return runtime, [ReportSubmitted.model_validate_json(row.payload) for row in rows]


def outcomes(runtime) -> list[dict]:
    with Session(runtime.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.topic != REPORTS_SUBMITTED).order_by(col(OutboxMessage.id))).all()
        return [{k: v for k, v in json.loads(row.payload).items() if k not in ("event_id", "occurred_at")} for row in rows]


def test_a_batch_classifies_exactly_as_one_by_one(tmp_path: Path) -> None:
    batched, events = submitted(tmp_path / "batched")
    one_by_one, same_events = submitted(tmp_path / "one-by-one")
    [subscription] = [s for s in batched.consumer.subscriptions if s.topic == REPORTS_SUBMITTED]
    assert subscription.prepare is handlers.preload_submissions and len(events) == 45

    assert batched.consumer._apply_batch(subscription, events) == (45, 0)
    for event in same_events:
        one_by_one.consumer._apply(REPORTS_SUBMITTED, event, subscription.handler)

    got, expected = outcomes(batched), outcomes(one_by_one)
    assert len(got) == 45 and [o["submission_id"] for o in got] != [o["submission_id"] for o in expected]  # their own ids …
    strip = lambda o: {k: v for k, v in o.items() if k != "submission_id"}  # noqa: E731
    assert [strip(o) for o in got] == [strip(o) for o in expected]  # … and otherwise the same decisions and traces
