"""Class 5/6: whatever the door accepts is classified or rejected with a reason, never lost.

* the day a report is received is China's day (UTC+8): at 00:30 China time a report dated China's
  today is classified, not rejected as "in the future" (its UTC date is still yesterday);
* a report at the contract's limits (dates up to 2100-12-31) is classified;
* belt and braces: a report past them that reaches the pipeline anyway (another intake, a replay)
  is rejected with the reason, not left accepted for ever by an exception.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime
from typing import Any

from services.assessment.adapters.rules import load_assessment_rules
from services.assessment.service_layer import handlers
from shared.contracts import (
    AssessmentClassified,
    Report,
    ReportRejected,
    ReportSubmitted,
)
from tests.examples import EXAMPLE_REPORT
from tests.unit.assessment.fakes import FakeUnitOfWork

RULES = load_assessment_rules()


def report(**changes: Any) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["submission_id"] = str(uuid.uuid4())
    data.update(changes)
    return Report.model_validate(data)


def decide(sent: Report, received_at: datetime) -> AssessmentClassified | ReportRejected:
    uow = FakeUnitOfWork()
    event = ReportSubmitted(producer="assessment", credit_code=sent.enterprise.credit_code, submission_id=sent.submission_id,
                            received_at=received_at, report=sent)
    handlers.classify_submission(uow, event, RULES)
    [announcement] = uow.published
    assert uow.submissions.get(str(sent.submission_id)).status in ("classified", "rejected")
    return announcement


def test_a_report_dated_chinas_today_received_at_0030_china_time_is_classified() -> None:
    today = "2023-06-12"
    sent = report(assessed_on=today, publicity={"start": today, "end": today})
    half_past_midnight_in_china = datetime(2023, 6, 11, 16, 30, tzinfo=UTC)  # 2023-06-12 00:30 UTC+8
    decided = decide(sent, half_past_midnight_in_china)
    assert isinstance(decided, AssessmentClassified), decided


def test_a_report_dated_chinas_tomorrow_is_still_in_the_future() -> None:
    sent = report(assessed_on="2023-06-13", publicity={"start": "2023-06-13", "end": "2023-06-13"})
    decided = decide(sent, datetime(2023, 6, 11, 16, 30, tzinfo=UTC))
    assert isinstance(decided, ReportRejected) and any(r.startswith("assessed_on：") and "晚于今天" in r for r in decided.reasons)
    assert any(r.startswith("assessed_on: ") and "future" in r for r in decided.reason_texts("en"))


def test_a_report_at_the_contracts_last_day_is_classified() -> None:
    sent = report(publicity={"start": "2023-06-02", "end": "2100-12-31"})
    decided = decide(sent, datetime(2023, 6, 12, 9, tzinfo=UTC))
    assert isinstance(decided, AssessmentClassified), decided


def test_a_report_past_the_contracts_limits_reaching_the_pipeline_is_rejected_with_a_reason() -> None:
    valid = report()
    # past the door's limits (the contract refuses these): a replay or another intake could still bring one
    beyond = valid.model_copy(update={"publicity": valid.publicity.model_copy(update={"end": date(9999, 12, 31)})})
    decided = decide(beyond, datetime(2023, 6, 12, 9, tzinfo=UTC))
    assert isinstance(decided, ReportRejected)
    assert any("超出规则可计算的范围" in reason for reason in decided.reasons), decided.reasons
    assert [m.code for m in decided.messages] == ["assessment.reject.out_of_range"] and "out of the range" in decided.reason_texts("en")[0]

    late = valid.model_copy(update={"assessed_on": date(9998, 12, 31),
                                    "publicity": valid.publicity.model_copy(update={"start": date(9999, 1, 1), "end": date(9999, 1, 2)})})
    decided = decide(late, datetime(9999, 1, 5, 9, tzinfo=UTC))
    assert isinstance(decided, ReportRejected), decided
