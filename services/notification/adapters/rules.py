"""Reading the notification templates (rule data): the packaged files in services/notification/rules/, plus an
agency's own in ``$OHS_RULES_DIR/notification/`` (a subfolder: the top level of OHS_RULES_DIR is read as
assessment rule sets). Files with another ``kind`` are skipped; a bad file stops start-up
(:class:`shared.rule_data.RuleDataError` naming the file and every problem)."""

from __future__ import annotations

from pathlib import Path

from services.notification.domain.templates import KIND, NotificationTemplates, TemplateBook
from shared.rule_data import agency_folder, load_rule_files
from shared.rules_endpoint import DeclaredRules

PACKAGED_RULES = Path(__file__).resolve().parent.parent / "rules"


def load_templates(rules_dir: Path | None = None) -> TemplateBook:
    """The packaged templates and the agency's own (``rules_dir``: ``$OHS_RULES_DIR``, if any)."""
    templates = load_rule_files([PACKAGED_RULES, agency_folder(rules_dir, "notification")], NotificationTemplates,
                                what="notification templates file", kind=KIND)
    return TemplateBook(list(templates))


def rule_sets_declared(templates: TemplateBook) -> tuple[DeclaredRules, ...]:
    """The rule data ``GET /rules/in-force`` names (:mod:`shared.rules_endpoint`), from what start-up loaded."""
    return (DeclaredRules(KIND, "通知模板", templates.in_force),)
