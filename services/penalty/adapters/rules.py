"""The penalty service's rule data, read from disk: the no-penalty lists (附件5) and the discretion
baselines (裁量基准) — the packaged ``services/penalty/rules/`` plus the agency's ``$OHS_RULES_DIR/penalty/``
— and the working calendar. Everything goes through the one loader, :func:`shared.rule_data.load_rule_files`;
the domain receives the parsed rules. A bad file stops start-up (:class:`shared.rule_data.RuleDataError`
naming the file)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.penalty.domain.discretion import DiscretionBaseline, DiscretionBaselines
from services.penalty.domain.no_penalty import NoPenaltyList, NoPenaltyRules
from shared.rule_data import agency_folder, load_rule_files
from shared.working_calendar import WorkingCalendar

PACKAGED_RULES = Path(__file__).resolve().parent.parent / "rules"


def load_no_penalty_rules(extra_dir: Path | None = None) -> NoPenaltyRules:
    """Every no-penalty list (``"kind": "no_penalty_list"``) of the packaged folder and ``extra_dir``."""
    lists = load_rule_files([PACKAGED_RULES, extra_dir], NoPenaltyList, what="no-penalty list file", kind="no_penalty_list",
                            unique_by=())
    return NoPenaltyRules(list(lists))


def load_discretion_baselines(extra_dir: Path | None = None) -> DiscretionBaselines:
    """Every discretion baseline (``"kind": "discretion_baseline"``) of the packaged folder and ``extra_dir``."""
    baselines = load_rule_files([PACKAGED_RULES, extra_dir], DiscretionBaseline, what="discretion baseline file",
                                kind="discretion_baseline", unique_by=())
    return DiscretionBaselines(list(baselines))


@dataclass(frozen=True)
class Rulebook:
    """The rule data the penalty service decides with (packaged + ``rules_dir``)."""

    no_penalty: NoPenaltyRules
    baselines: DiscretionBaselines
    calendar: WorkingCalendar

    @classmethod
    def load(cls, rules_dir: Path | None = None) -> "Rulebook":
        """Packaged rule data plus the agency's: ``<rules_dir>/penalty/`` (lists, baselines) and ``<rules_dir>/calendar/``.
        (The top level of rules_dir is the assessment service's rule sets; each other service has its subfolder.)"""
        own = agency_folder(rules_dir, "penalty")
        return cls(load_no_penalty_rules(own), load_discretion_baselines(own), WorkingCalendar(agency_folder(rules_dir, "calendar")))
