"""The business rules a report (附件4) must keep across its fields, beyond its shape.

The contract (:class:`shared.contracts.Report`) checks each field's shape and format; these checks
compare fields with each other and with the day the report is received (an assessment cannot be in
the future, the result is posted after the assessment, no more workers exposed than employed …).
Each problem names the field at fault; the HTTP API answers them as 422 like the contract's own.
"""

from __future__ import annotations

from datetime import date

from shared.contracts import FieldProblem, Report


def report_problems(report: Report, today: date) -> list[FieldProblem]:
    """Checks across fields, each naming the field at fault. Empty when the report is coherent."""
    problems: list[FieldProblem] = []
    if report.assessed_on > today:
        problems.append(FieldProblem("assessed_on", f"{report.assessed_on} is in the future"))
    started = report.enterprise.production_started_on
    if started and started > report.assessed_on:
        problems.append(FieldProblem("enterprise.production_started_on", f"{started} is after assessed_on {report.assessed_on}"))
    if report.publicity.start < report.assessed_on:
        problems.append(FieldProblem(
            "publicity.start",
            f"{report.publicity.start} is before assessed_on {report.assessed_on}: the result is posted after the assessment",
        ))
    if report.publicity.start > today:
        problems.append(FieldProblem("publicity.start", f"{report.publicity.start} is in the future"))
    for i, hazard in enumerate(report.hazards):
        if hazard.tested_on and hazard.tested_on > report.assessed_on:
            problems.append(FieldProblem(f"hazards[{i}].tested_on", f"{hazard.tested_on} is after assessed_on {report.assessed_on}"))
        if hazard.exposed > report.enterprise.employees:
            problems.append(FieldProblem(f"hazards[{i}].exposed", f"{hazard.exposed} exceeds enterprise.employees {report.enterprise.employees}"))
    return problems
