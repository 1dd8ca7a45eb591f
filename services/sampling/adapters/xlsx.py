"""The publication (一公开) as an .xlsx workbook: sheets 计划, 名录, 抽取结果, 检查结果."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook

from shared.contracts import CATEGORIES
from shared.xlsx import append  # text cleaned, formula-like text written as text

# Column and row titles of the publication workbook: Chinese for the public, the JSON key after it for machines.
XLSX_LABELS = {
    "id": "计划编号", "region_code": "行政区划代码", "period": "计划期间", "parent_plan_id": "上级计划编号", "ratio": "抽查比例",
    "minimum": "最低抽查数", "inspectors_per_task": "每户执法人员数", "jia_non_site": "甲类非现场检查",
    "full_coverage_industries": "全覆盖行业", "exclusions": "不纳入名录", "defaults_from": "默认参数来源", "commitment": "种子承诺值",
    "algorithm_version": "算法版本", "status": "状态", "draw_id": "抽取编号", "drawn_at": "抽取时间", "seed": "随机种子",
    "pool_version": "名录版本", "pool_hash": "名录哈希", "credit_code": "统一社会信用代码", "category": "综合风险类别",
    "full_coverage": "全覆盖", "task_id": "任务编号", "enterprise_name": "单位名称", "selection": "抽取方式", "on_site": "现场检查",
    "inspectors": "执法检查人员", "outcome": "检查结果", "inspected_on": "检查日期", "item_codes": "违法事项", "reason": "未检查原因",
    "case_ids": "案件编号",
}


def xlsx_label(key: str, suffix: str = "") -> str:
    return f"{XLSX_LABELS[key]}{suffix} {key}{suffix}"


def publication_xlsx(doc: dict[str, Any]) -> bytes:
    """The publication as a workbook: 计划 (the plan and the draw's seed and hashes), 名录 (the pool
    drawn from), 抽取结果 (targets and inspectors), 检查结果 (results)."""
    book = Workbook(write_only=True)
    plan = doc["plan"]
    sheet = book.create_sheet("计划")
    append(sheet, ["字段 field", "值 value"])
    for key in ("id", "region_code", "period", "parent_plan_id"):
        append(sheet, [xlsx_label(key), plan[key]])
    for category in CATEGORIES:
        append(sheet, [xlsx_label("ratio", f" {category}"), plan["ratios"][category]])
        append(sheet, [xlsx_label("minimum", f" {category}"), plan["minimums"][category]])
    append(sheet, [xlsx_label("inspectors_per_task"), plan["inspectors_per_task"]])
    append(sheet, [xlsx_label("jia_non_site"), plan["jia_non_site"]])
    append(sheet, [xlsx_label("full_coverage_industries"), ", ".join(plan["full_coverage_industries"])])
    append(sheet, [xlsx_label("exclusions"), "; ".join(f"{e['credit_code']} {e['reason']}" for e in plan["exclusions"])])
    append(sheet, [xlsx_label("defaults_from"), f"{plan['defaults_from']['jurisdiction']} v{plan['defaults_from']['version']}"])
    append(sheet, [xlsx_label("commitment"), doc["commitment"]])
    append(sheet, [xlsx_label("algorithm_version"), doc["algorithm_version"]])
    append(sheet, [xlsx_label("status"), doc["status"]])
    record = doc["draw"] or {}
    for key in ("draw_id", "drawn_at", "seed", "pool_version", "pool_hash"):
        append(sheet, [xlsx_label(key), record.get(key)])
    pool = book.create_sheet("名录")
    append(pool, [xlsx_label(k) for k in ("credit_code", "category", "full_coverage")])
    for entry in record.get("pool", []):
        append(pool, [entry["credit_code"], entry["category"], entry["full_coverage"]])
    targets = book.create_sheet("抽取结果")
    columns = ("task_id", "credit_code", "enterprise_name", "region_code", "category", "selection", "on_site", "inspectors")
    append(targets, ["序号 no"] + [xlsx_label(k) for k in columns])
    for index, t in enumerate(record.get("targets", []), start=1):
        append(targets, [index, t["task_id"], t["credit_code"], t["enterprise_name"], t["region_code"], t["category"], t["selection"],
                        t["on_site"], ", ".join(f"{i['id']} {i['name']}" for i in t["inspectors"])])
    results = book.create_sheet("检查结果")
    append(results, [xlsx_label(k) for k in ("task_id", "credit_code", "outcome", "inspected_on", "item_codes", "reason", "case_ids")])
    for r in doc["results"]:
        append(results, [r["task_id"], r["credit_code"], r["outcome"], r["inspected_on"], ", ".join(r["item_codes"]), r["reason"],
                        ", ".join(r["case_ids"])])
    out = BytesIO()
    book.save(out)
    return out.getvalue()

