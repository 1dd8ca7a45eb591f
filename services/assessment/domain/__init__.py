"""Pure domain of the assessment service: the rule data it is given (parsed by ``adapters.rules``),
the report's business rules and the classification. No I/O."""

from services.assessment.domain.assessment_rules import AssessmentRules
from services.assessment.domain.checklist import ChecklistScore, checklist_problems, score_checklist
from services.assessment.domain.classifier import (
    Classified,
    Outcome,
    Rejected,
    ScoreSource,
    TestStatus,
    classify,
    exposure_test_status,
    months_before,
)
from services.assessment.domain.report_rules import report_problems
from services.assessment.domain.rules import (
    ChecklistItem,
    ChecklistSection,
    ExposureTestValidity,
    NoApplicableRules,
    RuleBook,
    RuleDataError,
    RuleSet,
    SelfCheckChecklist,
)

__all__ = [
    "AssessmentRules",
    "ChecklistItem",
    "ChecklistScore",
    "ChecklistSection",
    "Classified",
    "ExposureTestValidity",
    "NoApplicableRules",
    "Outcome",
    "Rejected",
    "RuleBook",
    "RuleDataError",
    "RuleSet",
    "ScoreSource",
    "SelfCheckChecklist",
    "TestStatus",
    "checklist_problems",
    "classify",
    "exposure_test_status",
    "months_before",
    "report_problems",
    "score_checklist",
]
