"""The publication (一公开) as an .xlsx workbook: sheets 计划, 名录, 抽取结果, 检查结果 (and 非现场监管 where a non-site
rule treated employers, RULES §10).

For the public: every title and every enumerated value (status, selection, outcome, yes/no) is a code of
the ``xlsx`` catalogue, in Chinese unless ``locale`` asks for English; ids, codes, the seed and the hashes
are written as they are, so anyone can check them against the JSON publication (``GET
/plans/{id}/publication``, what ``ohs sampling verify`` reads). Nothing reads the workbook back."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook

from shared import i18n
from shared.contracts import CATEGORIES
from shared.xlsx import append, joined, word, yes_no  # text cleaned, formula-like text written as text

# The title of each JSON key of the publication.
TITLES = {
    "id": "xlsx.publication.column.id", "region_code": "xlsx.column.region_code", "period": "xlsx.publication.column.period",
    "parent_plan_id": "xlsx.publication.column.parent_plan_id", "inspectors_per_task": "xlsx.publication.column.inspectors_per_task",
    "full_coverage_industries": "xlsx.publication.column.full_coverage_industries", "exclusions": "xlsx.publication.column.exclusions",
    "defaults_from": "xlsx.publication.column.defaults_from", "commitment": "xlsx.publication.column.commitment",
    "algorithm_version": "xlsx.publication.column.algorithm_version", "status": "xlsx.column.status",
    "draw_id": "xlsx.publication.column.draw_id", "drawn_at": "xlsx.publication.column.drawn_at", "seed": "xlsx.publication.column.seed",
    "pool_version": "xlsx.publication.column.pool_version", "pool_hash": "xlsx.publication.column.pool_hash",
    "credit_code": "xlsx.column.credit_code", "category": "xlsx.column.category", "full_coverage": "xlsx.publication.column.full_coverage",
    "task_id": "xlsx.publication.column.task_id", "enterprise_name": "xlsx.column.enterprise_name",
    "selection": "xlsx.publication.column.selection", "on_site": "xlsx.publication.column.on_site",
    "inspectors": "xlsx.publication.column.inspectors", "outcome": "xlsx.publication.column.outcome",
    "inspected_on": "xlsx.publication.column.inspected_on", "item_codes": "xlsx.column.item_codes",
    "reason": "xlsx.publication.column.reason", "case_ids": "xlsx.column.case_ids",
    "treatment": "xlsx.publication.column.treatment", "non_site_rule": "xlsx.publication.column.non_site_rule",
    "non_site_checks": "xlsx.publication.column.non_site_checks",
}
STATUS = {  # services/sampling/views.py status_of
    "handed_down": "xlsx.value.plan_status.handed_down", "committed": "xlsx.value.plan_status.committed",
    "drawn": "xlsx.value.plan_status.drawn", "completed": "xlsx.value.plan_status.completed",
}
SELECTION = {"random": "xlsx.value.selection.random", "full_coverage": "xlsx.value.selection.full_coverage"}
TREATMENT = {"exempt": "xlsx.value.non_site.exempt", "non_site": "xlsx.value.non_site.non_site"}  # domain/non_site.py
OUTCOME = {"compliant": "xlsx.value.outcome.compliant", "violations": "xlsx.value.outcome.violations",
           "not_inspected": "xlsx.value.outcome.not_inspected"}


def title(key: str, locale: str = i18n.ZH) -> str:
    """The column or row title of a JSON key of the publication."""
    return i18n.text(TITLES[key], locale=locale)


def publication_xlsx(doc: dict[str, Any], locale: str = i18n.ZH) -> bytes:
    """The publication as a workbook: 计划 (the plan and the draw's seed and hashes), 名录 (the pool
    drawn from), 抽取结果 (targets and inspectors), 检查结果 (results)."""
    def says(code: str, **params: Any) -> str:
        return i18n.text(code, params, locale)

    book = Workbook(write_only=True)
    plan = doc["plan"]
    sheet = book.create_sheet(says("xlsx.publication.sheet.plan"))
    append(sheet, [says("xlsx.common.item"), says("xlsx.common.value")])
    for key in ("id", "region_code", "period", "parent_plan_id"):
        append(sheet, [title(key, locale), plan[key]])
    for category in CATEGORIES:
        append(sheet, [says("xlsx.publication.column.ratio", category=category), plan["ratios"][category]])
        append(sheet, [says("xlsx.publication.column.minimum", category=category), plan["minimums"][category]])
    append(sheet, [title("inspectors_per_task", locale), plan["inspectors_per_task"]])
    append(sheet, [says("xlsx.publication.column.jia_non_site", category=CATEGORIES[0]), yes_no(plan["jia_non_site"], locale)])
    append(sheet, [title("full_coverage_industries", locale), joined(plan["full_coverage_industries"], locale)])
    append(sheet, [title("exclusions", locale), joined((says("xlsx.publication.exclusion", credit_code=e["credit_code"], reason=e["reason"])
                                                        for e in plan["exclusions"]), locale, strong=True)])
    defaults = plan["defaults_from"]
    append(sheet, [title("defaults_from", locale),
                   says("xlsx.publication.defaults_from", jurisdiction=defaults["jurisdiction"], version=defaults["version"])])
    append(sheet, [title("commitment", locale), doc["commitment"]])
    append(sheet, [title("algorithm_version", locale), doc["algorithm_version"]])
    append(sheet, [title("status", locale), word(STATUS, doc["status"], locale)])
    record = doc["draw"] or {}
    for key in ("draw_id", "drawn_at", "seed", "pool_version", "pool_hash"):
        append(sheet, [title(key, locale), record.get(key)])
    pool = book.create_sheet(says("xlsx.publication.sheet.pool"))
    append(pool, [title(k, locale) for k in ("credit_code", "category", "full_coverage")])
    for entry in record.get("pool", []):
        append(pool, [entry["credit_code"], entry["category"], yes_no(entry["full_coverage"], locale)])
    targets = book.create_sheet(says("xlsx.publication.sheet.targets"))
    columns = ("task_id", "credit_code", "enterprise_name", "region_code", "category", "selection", "on_site", "inspectors")
    append(targets, [says("xlsx.column.serial")] + [title(k, locale) for k in columns])
    for index, t in enumerate(record.get("targets", []), start=1):
        append(targets, [index, t["task_id"], t["credit_code"], t["enterprise_name"], t["region_code"], t["category"],
                         word(SELECTION, t["selection"], locale), yes_no(t["on_site"], locale),
                         joined((f"{i['id']} {i['name']}" for i in t["inspectors"]), locale)])
    results = book.create_sheet(says("xlsx.publication.sheet.results"))
    append(results, [title(k, locale) for k in ("task_id", "credit_code", "outcome", "inspected_on", "item_codes", "reason", "case_ids")])
    for r in doc["results"]:
        append(results, [r["task_id"], r["credit_code"], word(OUTCOME, r["outcome"], locale), r["inspected_on"],
                         joined(r["item_codes"], locale), r["reason"], joined(r["case_ids"], locale)])
    if record.get("non_site"):  # who the non-site rule (RULES §10) treated, and why: beside the pool, as published
        treated = book.create_sheet(says("xlsx.publication.sheet.non_site"))
        append(treated, [title(k, locale) for k in ("credit_code", "enterprise_name", "category", "treatment", "non_site_rule",
                                                     "non_site_checks")])
        for t in record["non_site"]["treated"]:
            rule_set = t["rule_set"]
            append(treated, [t["credit_code"], t["enterprise_name"], t["category"], word(TREATMENT, t["treatment"], locale),
                             says("xlsx.publication.defaults_from", jurisdiction=rule_set["jurisdiction"], version=rule_set["version"]),
                             joined((i18n.text(step["code"], step["params"], locale) for step in t["trace"]), locale, strong=True)])
    out = BytesIO()
    book.save(out)
    return out.getvalue()
