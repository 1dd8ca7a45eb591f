"""The penalty service's rule data, read from disk: the no-penalty lists (附件5), the discretion
baselines (裁量基准) and the shortcoming maps (which duty a report's shortcoming breaches) — the packaged ``services/penalty/rules/`` plus the agency's ``$OHS_RULES_DIR/penalty/``
— and the working calendar. Everything goes through the one loader, :func:`shared.rule_data.load_rule_files`;
the domain receives the parsed rules. A bad file stops start-up (:class:`shared.rule_data.RuleDataError`
naming the file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.penalty.domain.discretion import DiscretionBaseline, DiscretionBaselines
from services.penalty.domain.no_penalty import NoPenaltyList, NoPenaltyRules
from services.penalty.domain.org_rating import KIND as ORG_RATING, OrgRatingRuleBook, OrgRatingRules
from services.penalty.domain.screening import ShortcomingMap, ShortcomingMaps, listed_item_problems
from shared.rule_data import RuleDataError, agency_folder, load_rule_files
from shared.rules_endpoint import DeclaredRules
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


def load_shortcoming_maps(no_penalty: NoPenaltyRules, extra_dir: Path | None = None) -> ShortcomingMaps:
    """Every shortcoming map (``"kind": "shortcoming_map"``) of the packaged folder and ``extra_dir``; two files with
    the same jurisdiction and version are refused, and so is a map naming a 附件5 item (``item_code``) that the
    no-penalty list in force for its jurisdiction on its effective date does not hold (each file named)."""
    maps = load_rule_files([PACKAGED_RULES, extra_dir], ShortcomingMap, what="shortcoming map file", kind="shortcoming_map")
    problems = [f"shortcoming map file {duty_map.origin}: {problem}" for duty_map in maps for problem in listed_item_problems(duty_map, no_penalty)]
    if problems:
        raise RuleDataError("\n".join(problems))
    return ShortcomingMaps(maps)


def load_org_rating_rules(extra_dir: Path | None = None) -> OrgRatingRuleBook:
    """Every star-rating rule file (``"kind": "org_rating"``) of the packaged folder and ``extra_dir`` (issue 17)."""
    return OrgRatingRuleBook(list(load_rule_files([PACKAGED_RULES, extra_dir], OrgRatingRules, what="org rating rules file",
                                                  kind=ORG_RATING)))


@dataclass(frozen=True)
class Rulebook:
    """The rule data the penalty service decides with (packaged + ``rules_dir``)."""

    no_penalty: NoPenaltyRules
    baselines: DiscretionBaselines
    calendar: WorkingCalendar
    shortcomings: ShortcomingMaps = field(default_factory=lambda: ShortcomingMaps([]))  # the duty each report shortcoming breaches
    org_rating: OrgRatingRuleBook = field(default_factory=load_org_rating_rules)  # organisations' star rating (issue 17)

    @classmethod
    def load(cls, rules_dir: Path | None = None) -> "Rulebook":
        """Packaged rule data plus the agency's: ``<rules_dir>/penalty/`` (lists, baselines) and ``<rules_dir>/calendar/``.
        (The top level of rules_dir is the assessment service's rule sets; each other service has its subfolder.)"""
        own = agency_folder(rules_dir, "penalty")
        no_penalty = load_no_penalty_rules(own)
        return cls(no_penalty, load_discretion_baselines(own), WorkingCalendar(agency_folder(rules_dir, "calendar")),
                   load_shortcoming_maps(no_penalty, own), load_org_rating_rules(own))


def rule_sets_declared(rulebook: Rulebook) -> tuple[DeclaredRules, ...]:
    """The rule data ``GET /rules/in-force`` names (:mod:`shared.rules_endpoint`), from what start-up loaded: the
    no-penalty list (an extension merged onto the list it extends), the discretion baseline, the shortcoming map."""
    return (DeclaredRules("no_penalty_list", "不予处罚清单（附件5）", rulebook.no_penalty.in_force),
            DeclaredRules("discretion_baseline", "裁量基准", rulebook.baselines.in_force),
            DeclaredRules("shortcoming_map", "问题—条款对照表", rulebook.shortcomings.in_force),
            DeclaredRules(ORG_RATING, "技术服务机构、职业健康检查机构星级评定", rulebook.org_rating.in_force))
