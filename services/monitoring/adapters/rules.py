"""Reading the monitoring limits (rule data): the packaged files in services/monitoring/rules/ (limits-*.json), plus
an agency's own in ``$OHS_RULES_DIR/monitoring/`` (a subfolder: the top level of OHS_RULES_DIR is read as assessment
rule sets). Files with another ``kind`` are skipped; a bad file stops start-up (:class:`shared.rule_data.RuleDataError`
naming the file and every problem)."""

from __future__ import annotations

from pathlib import Path

from services.monitoring.domain.rules import KIND, LimitBook, MonitoringLimits
from shared.rule_data import agency_folder, load_rule_files
from shared.rules_endpoint import DeclaredRules

PACKAGED_RULES = Path(__file__).resolve().parent.parent / "rules"


def load_limits(rules_dir: Path | None = None) -> LimitBook:
    """The packaged limits and the agency's own (``rules_dir``: ``$OHS_RULES_DIR``, if any)."""
    limits = load_rule_files([PACKAGED_RULES, agency_folder(rules_dir, "monitoring")], MonitoringLimits,
                             what="monitoring limits file", kind=KIND)
    return LimitBook(list(limits))


def rule_sets_declared(limits: LimitBook) -> tuple[DeclaredRules, ...]:
    """The rule data ``GET /rules/in-force`` names (:mod:`shared.rules_endpoint`), from what start-up loaded."""
    return (DeclaredRules(KIND, "职业接触限值（在线监测）", limits.in_force),)
