"""Reports for the agency (read models): counts per county, classification changes, small employers,
the archive as a 附件6-style spreadsheet. Plain queries plus the region tree for names; no domain logic.

Every function takes a region code already known to the tree (province, city or county) and
covers the employers whose county code lies inside it. An employer in a county the tree does not
list (a province loaded without all its counties) is still counted, in a row marked
``"listed": false``, so totals always match the archive.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlmodel import Session, col, func, select

from services.registry.adapters.orm import ClassificationVersion, EnterpriseRecord
from services.registry.domain.regions import RegionTree
from services.registry.views import summary
from shared.dates import CHINA
from shared.jurisdiction import region_prefix

CATEGORIES = ("甲", "乙", "丙")  # 甲 = lowest risk
_RANK = {c: i for i, c in enumerate(CATEGORIES)}
UPGRADE, DOWNGRADE, FIRST_ARCHIVE = "upgrade", "downgrade", "first_archive"

# The archive export: 附件6 column titles (services/assessment/bulk.py) where the archive holds the
# value, then the archive's results. Row 1 is the header so the bulk reader matches the columns.
ARCHIVE_BULK_TITLES = ("序号", "用人单位名称", "统一社会信用代码", "所在地区代码", "行业代码", "职工总数", "评估日期", "自查得分")
ARCHIVE_RESULT_TITLES = ("职业病危害风险等级", "职业卫生管理状况等级", "综合风险类别", "档案版本", "受理机构")
ARCHIVE_TITLES = ARCHIVE_BULK_TITLES + ARCHIVE_RESULT_TITLES
NOTES_SHEET = "说明"


def _in_region(region_code: str, column: Any) -> Any:
    return col(column).startswith(region_prefix(region_code))


def _county_name(tree: RegionTree, code: str) -> str | None:
    node = tree.get(code)
    return node.name if node is not None else None


def _empty_counts() -> dict[str, int]:
    return {c: 0 for c in CATEGORIES}


def _region_header(tree: RegionTree, region_code: str) -> dict[str, Any]:
    return {"region_code": region_code, "region_name": tree.name(region_code), "path": list(tree.path(region_code))}


def category_counts(session: Session, tree: RegionTree, region_code: str) -> dict[str, Any]:
    """Employers per county × category (甲/乙/丙) for every county of the region, zeros included, and the totals."""
    found: dict[str, dict[str, int]] = defaultdict(_empty_counts)
    statement = (
        select(EnterpriseRecord.region_code, EnterpriseRecord.category, func.count())
        .where(_in_region(region_code, EnterpriseRecord.region_code))
        .group_by(EnterpriseRecord.region_code, EnterpriseRecord.category)
    )
    for county, category, count in session.exec(statement):
        found[county][category] = found[county].get(category, 0) + count

    def row(code: str, name: str | None, listed: bool) -> dict[str, Any]:
        counts = found.get(code, _empty_counts())
        return {"region_code": code, "name": name, "listed": listed, "counts": dict(counts), "total": sum(counts.values())}

    listed = [row(n.code, n.name, True) for n in tree.counties_under(region_code)]
    listed_codes = {r["region_code"] for r in listed}
    unlisted = [row(code, _county_name(tree, code), False) for code in sorted(found) if code not in listed_codes]
    rows = listed + unlisted
    totals = _empty_counts()
    for r in rows:
        for c in CATEGORIES:
            totals[c] += r["counts"][c]
    return {
        **_region_header(tree, region_code),
        "categories": list(CATEGORIES),
        "rows": rows,
        "totals": {"region_code": region_code, "name": "合计", "counts": totals, "total": sum(totals.values())},
    }


def direction(before: str | None, after: str) -> str:
    if before is None:
        return FIRST_ARCHIVE
    return UPGRADE if _RANK[after] > _RANK[before] else DOWNGRADE


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def classification_changes(session: Session, tree: RegionTree, region_code: str, start: date | None, end: date | None) -> dict[str, Any]:
    """Changes of an employer's current category recorded in the archive between ``start`` and ``end`` (inclusive, China time).

    The archive's current classification moves with each version that became current (an older
    assessment arriving late only goes to history, exactly as ``ohs.registry.classification-changed``
    announces it). A change is such a version whose category differs from the previous current
    version's, or the employer's first archive. The employer's county is the version's."""
    conditions = [col(ClassificationVersion.became_current).is_(True), _in_region(region_code, ClassificationVersion.region_code)]
    if start is not None:
        conditions.append(col(ClassificationVersion.recorded_at) >= datetime.combine(start, time(), CHINA))
    if end is not None:
        conditions.append(col(ClassificationVersion.recorded_at) < datetime.combine(end + timedelta(days=1), time(), CHINA))
    in_period = list(session.exec(select(ClassificationVersion).where(*conditions)))

    history: dict[str, list[tuple[int, str]]] = defaultdict(list)  # credit code → [(version, category)] of current versions
    for codes in _chunks(sorted({v.credit_code for v in in_period})):
        statement = select(ClassificationVersion.credit_code, ClassificationVersion.version, ClassificationVersion.category).where(
            col(ClassificationVersion.credit_code).in_(codes), col(ClassificationVersion.became_current).is_(True)
        )
        for credit_code, version, category in session.exec(statement):
            history[credit_code].append((version, category))

    items: list[dict[str, Any]] = []
    for v in in_period:
        earlier = [(number, category) for number, category in history[v.credit_code] if number < v.version]
        before = max(earlier)[1] if earlier else None
        if before == v.category:
            continue  # same category (a reassessment, or a move to another county)
        recorded = v.recorded_at if v.recorded_at.tzinfo else v.recorded_at.replace(tzinfo=timezone.utc)
        items.append(
            {
                "credit_code": v.credit_code,
                "name": v.name,
                "region_code": v.region_code,
                "county_name": _county_name(tree, v.region_code),
                "before": before,
                "after": v.category,
                "direction": direction(before, v.category),
                "changed_on": recorded.astimezone(CHINA).date().isoformat(),
                "assessed_on": v.assessed_on.isoformat(),
                "submission_id": v.submission_id,
                "archive_version": v.version,
            }
        )
    items.sort(key=lambda i: (i["changed_on"], i["credit_code"], i["archive_version"]))
    counts = {UPGRADE: 0, DOWNGRADE: 0, FIRST_ARCHIVE: 0}
    for item in items:
        counts[item["direction"]] += 1
    return {
        **_region_header(tree, region_code),
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "date_basis": "the day the archive recorded the version (China Standard Time, UTC+8)",
        "counts": {**counts, "total": len(items)},
        "items": items,
    }


def small_employers(
    session: Session, tree: RegionTree, region_code: str, max_employees: int = 99, limit: int = 1000, offset: int = 0
) -> dict[str, Any]:
    """Employers with at most ``max_employees`` workers (the scheme's focus: under 100), with their category."""
    conditions = [_in_region(region_code, EnterpriseRecord.region_code), col(EnterpriseRecord.employees) <= max_employees]
    counts = _empty_counts()
    for category, count in session.exec(
        select(EnterpriseRecord.category, func.count()).where(*conditions).group_by(EnterpriseRecord.category)
    ):
        counts[category] = counts.get(category, 0) + count
    page = session.exec(
        select(EnterpriseRecord)
        .where(*conditions)
        .order_by(col(EnterpriseRecord.region_code), col(EnterpriseRecord.credit_code))
        .offset(offset)
        .limit(limit)
    )
    items = [{**summary(r), "county_name": _county_name(tree, r.region_code), "employees": r.employees} for r in page]
    return {
        **_region_header(tree, region_code),
        "max_employees": max_employees,
        "counts": counts,
        "total": sum(counts.values()),
        "limit": limit,
        "offset": offset,
        "items": items,
    }


# --------------------------------------------------------------------------- the archive as .xlsx


def _archive_records(session: Session, region_code: str) -> Iterable[EnterpriseRecord]:
    return session.exec(
        select(EnterpriseRecord)
        .where(_in_region(region_code, EnterpriseRecord.region_code))
        .order_by(col(EnterpriseRecord.region_code), col(EnterpriseRecord.credit_code))
    )


def archive_xlsx(session: Session, tree: RegionTree, region_code: str, exported_at: datetime | None = None) -> tuple[bytes, dict[str, int]]:
    """The region's archive as an .xlsx (first sheet: header in row 1, one row per employer; sheet 说明) and the counts."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    exported_at = (exported_at or datetime.now(timezone.utc)).astimezone(CHINA)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("分类监督执法档案")
    widths = {"用人单位名称": 36, "统一社会信用代码": 22, "受理机构": 34, "行业代码": 16}
    for i, title in enumerate(ARCHIVE_TITLES, start=1):
        sheet.column_dimensions[_column_letter(i)].width = widths.get(title, max(10, 2 * len(title) + 2))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: Any, number_format: str | None = None, font: Font | None = None) -> WriteOnlyCell:
        c = WriteOnlyCell(sheet, value=value)
        if number_format:
            c.number_format = number_format
        if font:
            c.font = font
        return c

    sheet.append([cell(title, font=bold) for title in ARCHIVE_TITLES])
    counts = _empty_counts()
    provisional = False
    for number, record in enumerate(_archive_records(session, region_code), start=1):
        counts[record.category] = counts.get(record.category, 0) + 1
        agency = ""
        if record.region_code in tree and tree.level(record.region_code) == "county":
            agency = tree.receiving_agency(record.region_code).name
            provisional = provisional or tree.agency_is_provisional(record.region_code)
        sheet.append(
            [
                number,
                record.name,
                cell(record.credit_code, "@"),
                cell(record.region_code, "@"),
                "、".join(record.industry_codes),
                record.employees,
                cell(record.assessed_on, "yyyy-mm-dd"),
                record.score,
                record.hazard_grade,
                record.management_grade,
                record.category,
                record.archive_version,
                agency,
            ]
        )

    notes = book.create_sheet(NOTES_SHEET)
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 80
    total = sum(counts.values())
    lines: list[tuple[str, Any]] = [
        ("导出时间", exported_at.strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"),
        ("地区", f"{region_code} {' / '.join(tree.path(region_code))}"),
        ("用人单位数", total),
        *((f"{c}类", counts[c]) for c in CATEGORIES),
        ("说明", "第 1 行为表头；“序号”至“自查得分”各列与附件6（批量导入）的列名一致，其余为档案结果列，导入时忽略。"),
    ]
    if provisional:
        lines.append(("受理机构", "受理机构名称为暂定名称（provisional），以各地公布的为准。"))
    for key, value in lines:
        notes.append([cell(key, font=bold), value])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), {**counts, "total": total}


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)
