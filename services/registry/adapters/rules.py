"""The registry's rule data on disk: the region tree and the industry catalogues, read once at
start-up (a bad file stops it, naming the file and the field) and handed to the domain parsed.

* Regions: ``services/registry/regions/*.json``, then ``<OHS_RULES_DIR>/regions/*.json``: a
  province in the agency folder replaces the packaged one; one folder may not define a province
  twice (see ``domain.regions``).
* Industry catalogues: ``services/registry/rules/*.json``, then ``<OHS_RULES_DIR>/industries/*.json``,
  through the one loader ``shared.rule_data.load_rule_files`` (one file per jurisdiction and version).
* Rectification rules (整改: default deadline, reminder horizon, attachment types): the
  ``"kind": "rectification"`` files of ``services/registry/rules/``, then ``<OHS_RULES_DIR>/rectification/*.json``.
* Portrait rules (风险画像: dimensions, weights, levels, enforcement lookback): the ``"kind": "portrait_rules"``
  files of ``services/registry/rules/``, then ``<OHS_RULES_DIR>/portrait/*.json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from services.registry.domain.overrides import WHAT as CATALOGUE
from services.registry.domain.overrides import IndustryCatalogue, IndustryCatalogues
from services.registry.domain.portrait import KIND as PORTRAIT_KIND
from services.registry.domain.portrait import WHAT as PORTRAIT_FILE
from services.registry.domain.portrait import PortraitRuleBook, PortraitRules
from services.registry.domain.rectification import WHAT as RECTIFICATION_FILE
from services.registry.domain.rectification import RectificationRules, RectificationRuleSets
from services.registry.domain.regions import WHAT as REGION_FILE
from services.registry.domain.regions import (
    RegionDataError,
    RegionFile,
    RegionTree,
    structure_problems,
)
from shared.rule_data import (
    RuleDataError,
    agency_folder,
    load_rule_files,
    read_all,
    read_json,
    rule_files,
    validate,
)
from shared.working_calendar import WorkingCalendar
from shared.rules_endpoint import DeclaredRules

PACKAGED_REGIONS_DIR = Path(__file__).resolve().parent.parent / "regions"
PACKAGED_INDUSTRY_DIR = Path(__file__).resolve().parent.parent / "rules"


def load_region_file(path: Path) -> RegionFile:
    """One province file, validated and checked for parent/child consistency."""
    file = validate(read_json(path, REGION_FILE), RegionFile, path, REGION_FILE)
    if problems := structure_problems(file):
        raise RegionDataError(f"{REGION_FILE} {path} is invalid:\n" + "\n".join(f"  - {p}" for p in problems))
    return file


def read_region_folders(folders: Iterable[Path]) -> RegionTree:
    """Later folders replace earlier ones' provinces; one folder may not define a province twice."""
    by_folder = []
    for folder in folders:
        try:
            by_folder.append(read_all(rule_files(folder, "regions folder"), load_region_file))
        except RuleDataError as error:
            raise error if isinstance(error, RegionDataError) else RegionDataError(str(error)) from error
    return RegionTree.from_files(by_folder)


def load_region_tree(rules_dir: Path | None = None, *, packaged_dir: Path = PACKAGED_REGIONS_DIR) -> RegionTree:
    """The packaged provinces plus ``<rules_dir>/regions/*.json`` when that folder exists."""
    agency = agency_folder(rules_dir, "regions")
    return read_region_folders([packaged_dir, *([agency] if agency is not None else [])])


def load_industry_catalogues(rules_dir: Path | None = None, *, packaged_dir: Path = PACKAGED_INDUSTRY_DIR) -> IndustryCatalogues:
    """The packaged catalogues plus ``<rules_dir>/industries/*.json`` (one per jurisdiction and version)."""
    if not packaged_dir.is_dir():
        raise RuleDataError(f"{CATALOGUE} folder {packaged_dir} does not exist or is not a folder")
    return IndustryCatalogues(load_rule_files([packaged_dir, agency_folder(rules_dir, "industries")], IndustryCatalogue, what=CATALOGUE,
                                              kind="industry_catalogue"))  # the packaged folder holds other kinds too


@dataclass(frozen=True)
class RectificationRulebook:
    """What the rectification loop decides with: the rule versions and the working calendar."""

    rules: RectificationRuleSets
    calendar: WorkingCalendar


def load_rectification_rules(rules_dir: Path | None = None, *, packaged_dir: Path = PACKAGED_INDUSTRY_DIR) -> RectificationRulebook:
    """The packaged rectification rules (``"kind": "rectification"`` in ``services/registry/rules/``) plus
    ``<rules_dir>/rectification/*.json`` (one per jurisdiction and version), and the working calendar
    (``<rules_dir>/calendar/``). A bad file stops start-up, naming it."""
    found = load_rule_files([packaged_dir, agency_folder(rules_dir, "rectification")], RectificationRules, what=RECTIFICATION_FILE,
                            kind="rectification")
    return RectificationRulebook(RectificationRuleSets(found), WorkingCalendar(agency_folder(rules_dir, "calendar")))


def load_portrait_rules(rules_dir: Path | None = None, *, packaged_dir: Path = PACKAGED_INDUSTRY_DIR) -> PortraitRuleBook:
    """The packaged portrait rules (``"kind": "portrait_rules"`` in ``services/registry/rules/``) plus
    ``<rules_dir>/portrait/*.json`` (one per jurisdiction and version). A bad file stops start-up, naming it."""
    return PortraitRuleBook(load_rule_files([packaged_dir, agency_folder(rules_dir, "portrait")], PortraitRules, what=PORTRAIT_FILE,
                                            kind=PORTRAIT_KIND))


def rule_sets_declared(industries: IndustryCatalogues, rectification: RectificationRulebook,
                       portrait: PortraitRuleBook) -> tuple[DeclaredRules, ...]:
    """The rule data ``GET /rules/in-force`` names (:mod:`shared.rules_endpoint`), from what start-up loaded. The
    region tree is reference data (no jurisdiction, version or effective date) and is not among them."""
    return (DeclaredRules("industry_catalogue", "行业分类目录", industries.in_force,
                          provisional=lambda catalogue: bool(catalogue.ref["provisional"])),  # provisional by entry
            DeclaredRules("rectification", "整改期限规则", rectification.rules.in_force),
            DeclaredRules("portrait_rules", "风险画像规则", portrait.in_force))
