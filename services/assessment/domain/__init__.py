"""Pure domain of the assessment service: versioned rule data and the classification (no I/O but reading rule files)."""

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
from services.assessment.domain.rules import (
    PACKAGED_RULES_DIR,
    ChecklistItem,
    ChecklistSection,
    ExposureTestValidity,
    NoApplicableRules,
    RuleBook,
    RuleDataError,
    RuleSet,
    SelfCheckChecklist,
    load_rule_set,
)

__all__ = [
    "PACKAGED_RULES_DIR",
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
    "load_rule_set",
    "months_before",
    "score_checklist",
]
