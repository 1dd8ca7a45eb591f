"""The registry's read models (CQRS-style views): plain queries returning dicts, no domain
decisions. Routes call them in a unit of work: ``await uow.run(lambda u: views.x(u.session, …))``.

* the archive: one employer (current classification, trace, history, overrides, 免检) and listings;
* the overrides, disputes and exemptions of one employer, in words a supervisor reads;
* reports for the agency: counts per county, classification changes, small employers, the
  archive as a 附件6-style spreadsheet (plain queries plus the region tree for names). Every
  report takes a region code already known to the tree (province, city or county) and covers
  the employers whose county code lies inside it; an employer in a county the tree does not
  list is still counted, in a row marked ``"listed": false``, so totals always match the archive;
* the region tree, the change log (its pages and a verification), the reminders due.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import String, cast
from sqlmodel import Session, col, func, select

from services.registry.adapters.orm import (
    ChainHeadRecord,
    ChangeLogEntry,
    ClassificationVersion,
    EnterpriseRecord,
    ExemptionRecord,
    OverrideRecord,
    TransferRecord,
)
from services.registry.adapters.repository import (
    EnterpriseRepository,
    ExemptionRepository,
    OverrideRepository,
    ReminderRepository,
    reminder_condition,
)
from services.registry.adapters.orm_portrait import PortraitRepository, PortraitVersion
from services.registry.adapters.orm_rectification import (
    RectificationAttachmentRecord,
    RectificationItem,
    RectificationStepRecord,
    RectificationSubmission,
)
from services.registry.adapters.xlsx import (  # noqa: F401  (the archive export's columns, re-exported)
    ARCHIVE_BULK_TITLES, ARCHIVE_RESULT_TITLES, ARCHIVE_TITLES, NOTES_SHEET, archive_workbook,
)
from services.registry.domain import overrides as rules
from services.registry.domain import portrait as portrait_rules
from services.registry.domain import reminders as reminder_rules
from services.registry.domain.chain import VerifyResult
from services.registry.domain.exemptions import IN_FORCE
from services.registry.domain.regions import RegionTree
from services.registry.service_layer import chain_log
from services.registry.service_layer.overrides import as_rule
from shared import i18n
from shared.contracts import CATEGORIES
from shared.dates import CHINA
from shared.jurisdiction import region_prefix


def _overrides(session: Session, credit_code: str) -> list[OverrideRecord]:
    return OverrideRepository(session).for_employer(credit_code)


# --------------------------------------------------------------------------- the archive


def _version_view(v: ClassificationVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "submission_id": v.submission_id,
        "category": v.category,
        "hazard_grade": v.hazard_grade,
        "management_grade": v.management_grade,
        "score": v.score,
        "assessed_on": v.assessed_on.isoformat(),
        "region_code": v.region_code,
        "rule_set": v.rule_set,
        "became_current": v.became_current,
        "recorded_at": v.recorded_at.isoformat(),
    }


def enterprise(session: Session, credit_code: str, locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any] | None:
    record = session.get(EnterpriseRecord, credit_code)
    if record is None:
        return None
    versions = list(
        session.exec(
            select(ClassificationVersion)
            .where(ClassificationVersion.credit_code == credit_code)
            .order_by(col(ClassificationVersion.version))
        )
    )
    current = next((v for v in versions if v.version == record.report_version), None)  # None: an industry default
    basis = (
        {"rule_set": current.rule_set, "factors": current.factors, "trace": current.trace}
        if current is not None
        else industry_basis(session, record)
    )
    return {
        **summary(record),
        "industry_codes": record.industry_codes,
        "employees": record.employees,
        "submission_id": record.submission_id,
        "next_assessment_due": record.next_assessment_due.isoformat() if record.next_assessment_due else None,
        "production_started_on": record.production_started_on.isoformat() if record.production_started_on else None,
        **basis,
        "history": [_version_view(v) for v in versions],
        **overrides_view(session, record, locale),  # effective_category, report_category, overrides, dispute, 免检
        "transfer": latest_transfer(session, credit_code),  # a move between counties (RULES §5a), the latest asked
    }


def summary(record: EnterpriseRecord) -> dict[str, Any]:
    return {
        "credit_code": record.credit_code,
        "name": record.name,
        "region_code": record.region_code,
        "category": record.category,
        "hazard_grade": record.hazard_grade,
        "management_grade": record.management_grade,
        "score": record.score,
        "assessed_on": record.assessed_on.isoformat() if record.assessed_on else None,
        "archive_version": record.archive_version,
        "updated_at": record.updated_at.isoformat(),
    }


def enterprises(
    session: Session, region_prefix: str | None, category: str | None, limit: int, offset: int, credit_code: str | None = None,
    industry: str | None = None, overdue_on: date | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """A page of the archive (by credit code) and how many match, filtered in the query: region, category, an industry
    code prefix (``industry``: any of the employer's GB/T 4754 codes starts with it), and the employers whose
    re-assessment or first assessment is overdue on ``overdue_on`` (as ``GET /reminders`` counts them)."""
    conditions: list[Any] = []
    if credit_code:  # an employer's listing: its own record only
        conditions.append(EnterpriseRecord.credit_code == credit_code)
    if region_prefix:
        conditions.append(col(EnterpriseRecord.region_code).startswith(region_prefix))
    if category:
        conditions.append(EnterpriseRecord.category == category)
    if industry:
        conditions.append(_has_industry(industry))
    if overdue_on is not None:
        conditions.append(_overdue(overdue_on))
    total = session.exec(select(func.count()).select_from(EnterpriseRecord).where(*conditions)).one()
    page = session.exec(
        select(EnterpriseRecord).where(*conditions).order_by(col(EnterpriseRecord.credit_code)).offset(offset).limit(limit)
    )
    return total, [{**summary(r), "industry_codes": r.industry_codes,
                    "next_assessment_due": r.next_assessment_due.isoformat() if r.next_assessment_due else None} for r in page]


def _has_industry(prefix: str) -> Any:
    """Any of the employer's industry codes starts with ``prefix`` (a checked GB/T 4754 code or prefix: a capital letter
    and digits, so nothing in it is a LIKE wildcard). The codes are a JSON list of strings: ``"<prefix>`` in its text."""
    return cast(EnterpriseRecord.industry_codes, String).like(f'%"{prefix}%')


def _overdue(today: date) -> Any:
    """The employer's re-assessment is overdue on ``today`` (its report's ``next_assessment_due`` has passed, or, archived
    before that was kept, 3 years after ``assessed_on``), or, without a report, its first assessment (2 months after the
    production start): the kinds ``reassessment_overdue`` and ``first_assessment_overdue`` of ``domain.reminders``."""
    return reminder_condition(today, 0, (reminder_rules.OVERDUE, reminder_rules.FIRST_OVERDUE))



# --------------------------------------------------------------------------- overrides, disputes, 免检


def override_view(row: OverrideRecord) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "archive_version": row.version,
        "before": row.category_before,
        "after": row.category_after,
        "steps": row.steps,
        "actor": row.actor,
        "at": row.recorded_at.isoformat(),
        "reason": row.reason,
        "case_ref": row.case_ref,
        "applies_to": f"report {row.submission_id}" if row.submission_id else "industry default",
        "active": row.cleared_at is None,
        "cleared_at": row.cleared_at.isoformat() if row.cleared_at else None,
        "cleared_by": row.cleared_by,
        "details": row.details,
    }


def override_outcome(record: EnterpriseRecord, row: OverrideRecord) -> dict[str, Any]:
    """The answer to a staff override: the employer's state after it, and the entry recorded."""
    return {
        "credit_code": record.credit_code,
        "category": record.category,
        "effective_category": record.category,
        "report_category": record.report_category,
        "source": record.source,
        "archive_version": record.archive_version,
        "dispute": {"status": record.dispute_status, "label": rules.DISPUTE_LABELS[record.dispute_status]},
        "entry": override_view(row),
    }


def exemption_view(row: ExemptionRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "credit_code": row.credit_code,
        "region_code": row.region_code,
        "valid_from": row.valid_from.isoformat(),
        "valid_until": row.valid_until.isoformat(),
        "reason": row.reason,
        "basis": row.basis,
        "status": row.status,
        "granted_by": row.granted_by,
        "granted_at": row.granted_at.isoformat(),
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "ended_by": row.ended_by,
        "end_reason": row.end_reason,
    }


def exemptions(session: Session, credit_code: str) -> list[dict[str, Any]]:
    """An employer's exemptions, in the order granted."""
    return [exemption_view(r) for r in ExemptionRepository(session).for_employer(credit_code)]


# --------------------------------------------------------------------------- moves between counties (RULES §5a)


def transfer_view(row: TransferRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "credit_code": row.credit_code,
        "from": row.from_region,
        "to": row.to_region,
        "requested_at": row.requested_at.isoformat(),
        "submission_id": row.submission_id,
        "status": row.status,
        "reason": row.reason,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "decided_by": row.decided_by,
        "archive_version": row.archive_version,
    }


def latest_transfer(session: Session, credit_code: str) -> dict[str, Any] | None:
    """The employer's latest transfer (pending, or how the last one ended), or None."""
    row = session.exec(
        select(TransferRecord)
        .where(TransferRecord.credit_code == credit_code)
        .order_by(col(TransferRecord.requested_at).desc(), col(TransferRecord.id).desc())
    ).first()
    return transfer_view(row) if row is not None else None


def pending_transfer_to(session: Session, credit_code: str) -> str | None:
    """The region a pending transfer of the employer goes to (its staff may read the archive meanwhile)."""
    return session.exec(
        select(TransferRecord.to_region).where(TransferRecord.credit_code == credit_code, TransferRecord.status == "pending")
    ).first()


def transfers(
    session: Session, region_code: str, status: str | None, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """Transfers into or out of the region (a county, or every county of a city or province), newest
    first, each with its direction seen from the region: incoming, outgoing, or within."""
    prefix = region_prefix(region_code)
    conditions: list[Any] = [(col(TransferRecord.from_region).startswith(prefix)) | (col(TransferRecord.to_region).startswith(prefix))]
    if status:
        conditions.append(TransferRecord.status == status)
    total = session.exec(select(func.count()).select_from(TransferRecord).where(*conditions)).one()
    rows = session.exec(
        select(TransferRecord, EnterpriseRecord.name)
        .join(EnterpriseRecord, col(EnterpriseRecord.credit_code) == col(TransferRecord.credit_code), isouter=True)
        .where(*conditions)
        .order_by(col(TransferRecord.requested_at).desc(), col(TransferRecord.id))
        .offset(offset)
        .limit(limit)
    )
    items = []
    for row, name in rows:
        inside_from, inside_to = row.from_region.startswith(prefix), row.to_region.startswith(prefix)
        direction = "within" if inside_from and inside_to else "incoming" if inside_to else "outgoing"
        items.append({**transfer_view(row), "name": name, "direction": direction})
    return total, items


def readable_region(session: Session, credit_code: str) -> str | None:
    """The region of the employer's archive (None: no archive), for the caller's read check."""
    record = session.get(EnterpriseRecord, credit_code)
    return record.region_code if record is not None else None

def industry_basis(session: Session, record: EnterpriseRecord) -> dict[str, Any]:
    """rule_set, factors and trace of an archive whose basis is the industry default (no report)."""
    current = next(
        (r for r in reversed(_overrides(session, record.credit_code)) if r.kind == rules.INDUSTRY_DEFAULT and r.cleared_at is None), None
    )
    details = current.details if current is not None else {}
    return {"rule_set": details.get("catalogue"), "factors": [], "trace": details.get("trace", [])}


def overrides_view(session: Session, record: EnterpriseRecord, locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
    entries = _overrides(session, record.credit_code)
    category_entries = [r for r in entries if r.kind in rules.CATEGORY_KINDS]
    dispute_entries = [r for r in entries if r.kind in (rules.DISPUTE, rules.VERIFICATION)]
    report_ref = record.submission_id if record.report_version is not None else None
    granted = ExemptionRepository(session).for_employer(record.credit_code)
    in_force = next((e for e in granted if e.status == IN_FORCE), None)
    return {
        "effective_category": record.category,
        "report_category": record.report_category,
        "source": record.source,
        "effective_trace": rules.explain(record.report_category, report_ref, [as_rule(r) for r in category_entries], locale),
        "overrides": [override_view(r) for r in category_entries],
        "dispute": {
            "status": record.dispute_status,
            "label": rules.dispute_label(record.dispute_status, locale),
            "submission_id": report_ref if record.dispute_status else None,
            "history": [override_view(r) for r in dispute_entries],
        },
        "exempt": in_force is not None,
        "exemptions": [exemption_view(e) for e in granted],
    }


# --------------------------------------------------------------------------- reports for the agency

_RANK = {c: i for i, c in enumerate(CATEGORIES)}
UPGRADE, DOWNGRADE, FIRST_ARCHIVE = "upgrade", "downgrade", "first_archive"



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


def archive_xlsx(session: Session, tree: RegionTree, region_code: str, exported_at: datetime | None = None,
                 locale: str = "zh_CN") -> tuple[bytes, dict[str, int]]:
    """The region's archive as an .xlsx (first sheet: header in row 1, one row per employer; sheet 说明) and the counts
    (the workbook: ``services/registry/adapters/xlsx.py``)."""
    exported_at = (exported_at or datetime.now(timezone.utc)).astimezone(CHINA)
    return archive_workbook(_archive_records(session, region_code), tree, region_code, exported_at, locale)


# --------------------------------------------------------------------------- the region tree


def region_view(tree: RegionTree, code: str) -> dict[str, Any]:
    node = tree.get(code)
    assert node is not None
    level = tree.level(code)
    parent = tree.parent(code)
    view: dict[str, Any] = {
        "code": node.code,
        "name": node.name,
        "level": level,
        "path": list(tree.path(code)),
        "parent_code": parent.code if parent else None,
        "agency": node.agency.model_dump() if node.agency else None,
        "children": [
            {"code": c.code, "name": c.name, "level": tree.level(c.code), **({"pilot_level": c.pilot_level} if c.pilot_level else {})}
            for c in tree.children(code)
        ],
    }
    if level == "county":
        agency = tree.receiving_agency(code)
        view["pilot_level"] = node.pilot_level
        view["receiving_agency"] = {
            "name": agency.name,
            "region_code": agency.region_code,
            "provisional": tree.agency_is_provisional(code),
            "routed": agency.region_code != code,  # another region's agency receives the reports (临汾: 尧都区 → city)
        }
    if node.note:
        view["note"] = node.note
    return view


# --------------------------------------------------------------------------- the change log (RULES §8)


def entry_view(entry: ChangeLogEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "region_code": entry.region_code,
        "credit_code": entry.credit_code,
        "change": entry.change,
        "category_before": entry.category_before,
        "category_after": entry.category_after,
        "actor": entry.actor,
        "reason": entry.reason,
        "payload": entry.payload,
        "recorded_at": entry.recorded_at.isoformat(),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def verify_view(region_code: str, result: VerifyResult) -> dict[str, Any]:
    broken = (
        {"seq": result.first_broken, "credit_code": result.credit_code, "code": result.code, "params": result.params,
         "reason": i18n.text_or(result.code, result.params, result.reason or "")}
        if not result.ok
        else None
    )
    return {"region_code": region_code, "ok": result.ok, "checked": result.checked, "first_broken": broken}


def chain_verification(session: Session, region_code: str) -> dict[str, Any]:
    return verify_view(region_code, chain_log.verify_region(session, region_code))


def chain_page(session: Session, region_code: str, from_seq: int, limit: int) -> dict[str, Any]:
    entries = chain_log.region_entries(session, region_code, from_seq, limit)
    head = session.get(ChainHeadRecord, region_code)
    return {
        "region_code": region_code,
        "from_seq": from_seq,
        "limit": limit,
        "items": [entry_view(e) for e in entries],
        "next_from_seq": entries[-1].seq + 1 if len(entries) == limit else None,  # type: ignore[operator]
        "head": {"last_seq": head.last_seq, "last_hash": head.last_hash} if head is not None else None,
    }


# --------------------------------------------------------------------------- reminders (RULES §1)


def reminder_view(session: Session, reminder: reminder_rules.Reminder, locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
    sent = ReminderRepository(session).sent(reminder.credit_code, reminder.kind, reminder.due_on)
    return {
        "credit_code": reminder.credit_code,
        "enterprise_name": reminder.enterprise_name,
        "region_code": reminder.region_code,
        "kind": reminder.kind,
        "due_on": reminder.due_on.isoformat(),
        "days": reminder.days,
        "reason": reminder.text(locale),
        "sent_at": sent.sent_at.isoformat() if sent is not None else None,  # when the sweep announced it
    }


def reminders(session: Session, region_code: str, today: date, within_days: int, locale: str = i18n.DEFAULT_LOCALE,
              limit: int | None = None) -> dict[str, Any]:
    """The reminders due today in the region (any GB/T 2260 code: a city or province covers its counties); ``limit``:
    only the most urgent ``limit`` items (the counts and ``total`` still cover them all)."""
    archive, prefix = EnterpriseRepository(session), region_prefix(region_code)
    counts = archive.reminder_counts(today, within_days, prefix) if limit is not None else None
    if counts is None:  # every reminder: every candidate decided by the domain
        candidates = {f.credit_code: f for f in archive.reminder_facts(today, within_days, prefix)}
    else:  # a few: counted in the database, decided among the few most urgent candidates only
        candidates = {f.credit_code: f for f in archive.most_urgent_reminder_facts(today, within_days, prefix, limit or 0, counts)}
    found = sorted((r for f in candidates.values() if (r := reminder_rules.unworded_reminder_for(f, today, within_days)) is not None),
                   key=reminder_rules.sort_key)  # decided and ordered without words; the words of those shown below
    if counts is None:
        counts = {kind: sum(1 for r in found if r.kind == kind) for kind in reminder_rules.KINDS}
    shown = [reminder_rules.reminder_for(candidates[r.credit_code], today, within_days) for r in (found if limit is None else found[:limit])]
    return {
        "region_code": region_code,
        "today": today.isoformat(),
        "within_days": within_days,
        "counts": counts,
        "total": sum(counts.values()),
        "items": [reminder_view(session, r, locale) for r in shown if r is not None],
    }


# --------------------------------------------------------------------------- rectification items (整改)


def _effective_region() -> Any:
    """The employer's region for access: the archive's when the registry has the employer, else the item's."""
    return func.coalesce(EnterpriseRecord.region_code, RectificationItem.region_code)


def rectification_summary(item: RectificationItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "credit_code": item.credit_code,
        "region_code": item.region_code,
        "shortcoming": {"code": item.shortcoming_code, "kind": item.shortcoming_kind, "subject": item.shortcoming_subject,
                        "text": item.shortcoming_text},
        "screening_id": item.screening_id,
        "outcome": item.outcome,
        "item_code": item.item_code,
        "submission_id": item.submission_id,
        "status": item.status,
        "deadline": item.deadline.isoformat(),
        "raised_on": item.raised_on.isoformat(),
        "updated_on": item.updated_on.isoformat(),
    }


def rectification_items(session: Session, *, credit_code: str | None = None, region_code: str | None = None, status: str | None = None,
                        limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Items of one employer and/or of the employers of a region (the archive's region), the most urgent
    first (earliest deadline, then when raised)."""
    statement = select(RectificationItem).outerjoin(EnterpriseRecord, col(EnterpriseRecord.credit_code) == col(RectificationItem.credit_code))
    if credit_code is not None:
        statement = statement.where(RectificationItem.credit_code == credit_code)
    if region_code is not None:
        statement = statement.where(_effective_region().startswith(region_prefix(region_code)))
    if status is not None:
        statement = statement.where(RectificationItem.status == status)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    statement = statement.order_by(col(RectificationItem.deadline), col(RectificationItem.raised_on), col(RectificationItem.id))
    return {"total": total, "limit": limit, "offset": offset,
            "items": [rectification_summary(i) for i in session.exec(statement.offset(offset).limit(limit))]}


def rectification_employer_region(session: Session, credit_code: str) -> str | None:
    """The employer's region for access to its items: the archive's, else where its items were raised; None: neither."""
    region = readable_region(session, credit_code)
    if region is None:
        region = session.exec(select(RectificationItem.region_code).where(RectificationItem.credit_code == credit_code).limit(1)).first()
    return region


def rectification_access(session: Session, item_id: str) -> tuple[str, str] | None:
    """(credit code, the employer's region for access) of an item, or None when there is no such item."""
    item = session.get(RectificationItem, item_id)
    if item is None:
        return None
    return item.credit_code, readable_region(session, item.credit_code) or item.region_code


def _attachment_view(row: RectificationAttachmentRecord) -> dict[str, Any]:
    return {"n": row.n, "filename": row.filename, "content_type": row.content_type, "size": row.size, "sha256": row.sha256}


def rectification(session: Session, item_id: str) -> dict[str, Any] | None:
    """One item with its history (every step) and the employer's submissions with their attachments and review."""
    item = session.get(RectificationItem, item_id)
    if item is None:
        return None
    steps = session.exec(select(RectificationStepRecord).where(RectificationStepRecord.item_id == item_id).order_by(col(RectificationStepRecord.seq)))
    submissions = session.exec(
        select(RectificationSubmission).where(RectificationSubmission.item_id == item_id).order_by(col(RectificationSubmission.n)))
    attachments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in session.exec(select(RectificationAttachmentRecord).where(RectificationAttachmentRecord.item_id == item_id)
                            .order_by(col(RectificationAttachmentRecord.n))):
        attachments[row.submission_n].append(_attachment_view(row))
    return {
        **rectification_summary(item),
        "latest_submission_id": item.latest_submission_id,
        "provision_code": item.provision_code,
        "deadline_basis": item.deadline_basis,
        "screening": item.screening,
        "history": [
            {"seq": s.seq, "step": s.step, "status": s.status, "on": s.taken_on.isoformat(), "actor": s.actor, "detail": s.detail,
             "deadline": s.deadline.isoformat(), "screening_id": s.screening_id, "submission": s.submission_n,
             "corrected_on": s.corrected_on.isoformat() if s.corrected_on else None, "corrected_in_time": s.corrected_in_time,
             "event_id": s.event_id}
            for s in steps
        ],
        "submissions": [
            {"n": s.n, "text": s.text, "submitted_on": s.submitted_on.isoformat(), "actor": s.actor, "attachments": attachments[s.n],
             "review": None if s.decision is None else {"decision": s.decision, "on": s.reviewed_on.isoformat() if s.reviewed_on else None,
                                                       "by": s.reviewed_by, "reason": s.review_reason}}
            for s in submissions
        ],
    }


def rectification_attachment(session: Session, item_id: str, n: int) -> dict[str, Any] | None:
    """The item's ``n``-th attachment as stored (its store ``key`` too), or None."""
    row = session.exec(
        select(RectificationAttachmentRecord).where(RectificationAttachmentRecord.item_id == item_id, RectificationAttachmentRecord.n == n)
    ).first()
    return None if row is None else {**_attachment_view(row), "key": row.storage_key}


# --------------------------------------------------------------------------- the risk portrait (风险画像)


def _portrait_version_view(row: PortraitVersion) -> dict[str, Any]:
    return {
        "version": row.version,
        "computed_at": row.computed_at.isoformat(),
        "as_of": row.as_of.isoformat(),
        "reason": row.reason,
        "levels": {d["name"]: d["level"] for d in row.dimensions},
    }


def portrait(session: Session, credit_code: str, version: int | None = None, locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any] | None:
    """The employer's current portrait, or its ``version`` (None: no such portrait). ``region_code`` is the
    archive's county (what access is checked against), else the portrait's."""
    repository = PortraitRepository(session)
    record = repository.get(credit_code)
    row = repository.version(credit_code, version or record.version) if record is not None else None
    if record is None or row is None:
        return None
    return {
        "credit_code": credit_code,
        "enterprise_name": record.enterprise_name,
        "region_code": readable_region(session, credit_code) or record.region_code,
        "version": row.version,
        "current": record.version,
        "computed_at": row.computed_at.isoformat(),
        "as_of": row.as_of.isoformat(),
        "reason": row.reason,
        "rule_set": row.rule_set,
        "dimensions": [portrait_rules.dimension_in(d, locale) for d in row.dimensions],  # as kept (Chinese), or in English
        "trace": row.trace,
    }


def portrait_versions(session: Session, credit_code: str) -> dict[str, Any] | None:
    """Every version of the employer's portrait, newest first, with its date, reason and levels (None: no portrait)."""
    repository = PortraitRepository(session)
    record = repository.get(credit_code)
    if record is None:
        return None
    return {
        "credit_code": credit_code,
        "region_code": readable_region(session, credit_code) or record.region_code,
        "current": record.version,
        "items": [_portrait_version_view(v) for v in reversed(repository.versions(credit_code))],
    }


# --------------------------------------------------------------------------- operations figures (GET /metrics)


def operations_figures(session: Session, today: date, within_days: int) -> dict[str, Any]:
    """What the operators' gauges show for the whole database: 免检 in force, and the re-assessment reminders due
    today by kind (the counts the reminder sweep and GET /reminders use)."""
    in_force = session.exec(select(func.count()).select_from(ExemptionRecord).where(ExemptionRecord.status == IN_FORCE)).one()
    return {"exemptions_in_force": int(in_force), "reminders_due": EnterpriseRepository(session).reminder_counts(today, within_days, None)}
