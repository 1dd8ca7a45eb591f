"""Reading the assessment's rule data from disk, with the one loader every service uses
(:func:`shared.rule_data.load_rule_files`), and handing the parsed rule sets to the domain.

* the classification tables (附件1–3): the packaged ``rules/*.json`` plus the top level of an
  agency's folder (``OHS_RULES_DIR``);
* the §1 deadlines: ``rules/deadlines/*.json`` plus the agency's ``deadlines/`` subfolder;
* the working calendar: the agency's ``calendar/`` subfolder (read by :class:`shared.working_calendar.WorkingCalendar`).

Subfolders are never rule sets of the level above. Errors (:class:`RuleDataError`) name the file
and every problem; two files with the same jurisdiction and version are refused naming both.
"""

from __future__ import annotations

from pathlib import Path

from services.assessment.domain.assessment_rules import AssessmentRules
from services.assessment.domain.deadlines import DeadlineRules, DeadlineSet
from services.assessment.domain.rules import RuleBook, RuleSet
from shared.rule_data import RuleDataError, agency_folder, load_rule_files, read_rule_file
from shared.rules_endpoint import DeclaredRules
from shared.working_calendar import WorkingCalendar

PACKAGED_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
PACKAGED_DEADLINES_DIR = PACKAGED_RULES_DIR / "deadlines"

RULE_FILE = "rule file"
DEADLINE_FILE = "deadline rule file"


def _folders(packaged_dir: Path, extra_dir: Path | None, what: str) -> list[Path]:
    """The packaged folder and the agency's; either one named but missing is refused."""
    folders = [Path(packaged_dir)] + ([Path(extra_dir)] if extra_dir is not None else [])
    for folder in folders:
        if not folder.is_dir():
            raise RuleDataError(f"{what} {folder} does not exist or is not a folder")
    return folders


def load_rule_set(path: Path) -> RuleSet:
    """Read and validate one rule-set file; :class:`RuleDataError` names the file and every problem."""
    return read_rule_file(Path(path), RuleSet, RULE_FILE)


def load_rule_sets(extra_dir: Path | None = None, *, packaged_dir: Path = PACKAGED_RULES_DIR) -> tuple[RuleSet, ...]:
    """Every rule set of the packaged folder plus an optional agency folder (settings.rules_dir)."""
    folders = _folders(packaged_dir, extra_dir, "rules folder")
    return load_rule_files(folders, RuleSet, what=RULE_FILE)


def load_rule_book(extra_dir: Path | None = None, *, packaged_dir: Path = PACKAGED_RULES_DIR) -> RuleBook:
    return RuleBook(load_rule_sets(extra_dir, packaged_dir=packaged_dir))


def load_deadline_set(path: Path) -> DeadlineSet:
    """Read and validate one deadline file; :class:`RuleDataError` names the file and every problem."""
    return read_rule_file(Path(path), DeadlineSet, DEADLINE_FILE)


def load_deadline_rules(extra_dir: Path | None = None, *, packaged_dir: Path = PACKAGED_DEADLINES_DIR) -> DeadlineRules:
    """Every deadline set of the packaged folder plus an optional agency folder."""
    folders = _folders(packaged_dir, extra_dir, "deadline rules folder")
    return DeadlineRules(load_rule_files(folders, DeadlineSet, what=DEADLINE_FILE))


def load_assessment_rules(rules_dir: Path | None = None) -> AssessmentRules:
    """Everything the classification reads, from the packaged rules and an agency's folder (``OHS_RULES_DIR``)."""
    return AssessmentRules(
        load_rule_book(rules_dir),
        load_deadline_rules(agency_folder(rules_dir, "deadlines")),
        WorkingCalendar(agency_folder(rules_dir, "calendar")),
    )


def rule_sets_declared(rules: AssessmentRules) -> tuple[DeclaredRules, ...]:
    """The rule data ``GET /rules/in-force`` names (:mod:`shared.rules_endpoint`), from what start-up loaded. The
    working calendar is not among them: it is by year, not by jurisdiction and version."""
    return (DeclaredRules("classification", "分级分类规则（附件1–3：危害因素目录、自查表、类别矩阵）", rules.rule_book.for_region),
            DeclaredRules("deadlines", "评估期限（公示、报送、重新评估、首次评估）", rules.deadlines.for_region))
