"""Reading the sampling defaults (rule data): the packaged files in services/sampling/rules/, plus an
agency's own in ``$OHS_RULES_DIR/sampling/`` (a subfolder, like deadlines/ and calendar/: the top
level of OHS_RULES_DIR is read as assessment rule sets). Files with another ``kind`` are skipped."""

from __future__ import annotations

from pathlib import Path

from services.sampling.domain.rules import KIND, SamplingDefaults, SamplingRules
from shared.rule_data import agency_folder, load_rule_files
from shared.rules_endpoint import DeclaredRules
from shared.working_calendar import WorkingCalendar

PACKAGED_RULES = Path(__file__).resolve().parent.parent / "rules"


def load_sampling_rules(rules_dir: Path | None = None) -> SamplingRules:
    """The packaged defaults and the agency's own (``rules_dir``: ``$OHS_RULES_DIR``, if any);
    :class:`shared.rule_data.RuleDataError` names every bad file."""
    defaults = load_rule_files([PACKAGED_RULES, agency_folder(rules_dir, "sampling")], SamplingDefaults,
                               what="sampling defaults file", kind=KIND)
    return SamplingRules(list(defaults), WorkingCalendar(agency_folder(rules_dir, "calendar")))


def rule_sets_declared(rules: SamplingRules) -> tuple[DeclaredRules, ...]:
    """The rule data ``GET /rules/in-force`` names (:mod:`shared.rules_endpoint`), from what start-up loaded."""
    return (DeclaredRules(KIND, "抽查比例及默认值（含核查处置期限、非现场监管）", rules.in_force),)
