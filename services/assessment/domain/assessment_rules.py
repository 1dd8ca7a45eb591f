"""Every piece of rule data the classification of a report reads, parsed once at start-up
(by ``services.assessment.adapters.rules.load_assessment_rules``)."""

from __future__ import annotations

from dataclasses import dataclass

from services.assessment.domain.deadlines import DeadlineRules
from services.assessment.domain.rules import RuleBook
from shared.working_calendar import WorkingCalendar


@dataclass(frozen=True)
class AssessmentRules:
    rule_book: RuleBook  # 附件1–3 tables, checklist, test validity
    deadlines: DeadlineRules  # §1 deadlines
    calendar: WorkingCalendar  # statutory working days
