"""The business rules a report (附件4) must keep across its fields, beyond its shape.

The contract (:class:`shared.contracts.Report`) checks each field's shape and format; these checks
compare fields with each other and with the day the report is received (an assessment cannot be in
the future, the result is posted after the assessment, no more workers exposed than employed …).
Each problem names the field at fault; the HTTP API answers them as 422 like the contract's own.

Each problem is a message code and its parameters (``shared.i18n``; the field in ``params["field"]``,
dates as ISO strings): :func:`report_messages`; :func:`report_problems` gives them as
:class:`FieldProblem` with the Chinese text.
"""

from __future__ import annotations

from datetime import date

from shared.contracts import FieldProblem, Report
from shared.i18n import Message


def report_messages(report: Report, today: date) -> list[Message]:
    """Checks across fields, each naming the field at fault (``params["field"]``). Empty when the report is coherent."""
    problems: list[Message] = []
    assessed_on = report.assessed_on.isoformat()
    if report.assessed_on > today:
        problems.append(Message(code="assessment.reject.report.assessed_in_future", params={"field": "assessed_on", "day": assessed_on}))
    started = report.enterprise.production_started_on
    if started and started > report.assessed_on:
        problems.append(Message(code="assessment.reject.report.production_after_assessment", params={
            "field": "enterprise.production_started_on", "started": started.isoformat(), "assessed_on": assessed_on}))
    start = report.publicity.start.isoformat()
    if report.publicity.start < report.assessed_on:
        problems.append(Message(code="assessment.reject.report.publicity_before_assessment", params={
            "field": "publicity.start", "start": start, "assessed_on": assessed_on}))
    if report.publicity.start > today:
        problems.append(Message(code="assessment.reject.report.publicity_in_future", params={"field": "publicity.start", "day": start}))
    for i, hazard in enumerate(report.hazards):
        if hazard.tested_on and hazard.tested_on > report.assessed_on:
            problems.append(Message(code="assessment.reject.report.tested_after_assessment", params={
                "field": f"hazards[{i}].tested_on", "tested_on": hazard.tested_on.isoformat(), "assessed_on": assessed_on}))
        if hazard.exposed > report.enterprise.employees:
            problems.append(Message(code="assessment.reject.report.exposed_over_employees", params={
                "field": f"hazards[{i}].exposed", "exposed": hazard.exposed, "employees": report.enterprise.employees}))
    return problems


def report_problems(report: Report, today: date, locale: str = "zh_CN") -> list[FieldProblem]:
    """:func:`report_messages` as field problems: each with its text in ``locale`` (Chinese unless asked), its code and parameters."""
    return [FieldProblem(message.params["field"], message.text(locale), message.code, message.params) for message in report_messages(report, today)]
