"""Pure domain of the assessment service: versioned rule data and the classification (no I/O but reading rule files)."""

from services.assessment.domain.classifier import Classified, Outcome, Rejected, classify
from services.assessment.domain.rules import (
    PACKAGED_RULES_DIR,
    NoApplicableRules,
    RuleBook,
    RuleDataError,
    RuleSet,
    load_rule_set,
)

__all__ = [
    "PACKAGED_RULES_DIR",
    "Classified",
    "NoApplicableRules",
    "Outcome",
    "Rejected",
    "RuleBook",
    "RuleDataError",
    "RuleSet",
    "classify",
    "load_rule_set",
]
