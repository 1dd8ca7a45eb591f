"""The classification archive (分类监督执法档案): pure rules, no I/O.

An employer's archive keeps every classification version, numbered 1, 2, … in arrival order;
the current one is the most recent assessment (by assessment date; a later arrival wins a tie).
A category set for the first time or changed, or an employer that moved to another region, is
announced to the other services. The category compared is the effective one (after overrides,
``domain.overrides``): a report that becomes current starts again from its own result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.registry.domain.words import Said, say

# What other services hold about an employer from ohs.registry.classification-changed, in the
# order ``ClassificationChanged.changed`` lists them: a change of any is announced.
HELD_FIELDS = ("category", "region_code", "enterprise_name", "industry_codes", "employees")
FIELD_WORDS = {  # each held field in words (单位名称, 行业代码 …)
    "category": "registry.archive.field.category",
    "region_code": "registry.archive.field.region_code",
    "enterprise_name": "registry.archive.field.enterprise_name",
    "industry_codes": "registry.archive.field.industry_codes",
    "employees": "registry.archive.field.employees",
}


@dataclass(frozen=True)
class CurrentClassification:
    category: str  # 综合风险类别 甲/乙/丙
    region_code: str
    assessed_on: date | None  # None: an industry default, no report yet (any report becomes current)
    latest_version: int  # highest version number in the history (reports and overrides share the sequence)


@dataclass(frozen=True)
class ArchiveDecision:
    version: int  # the version number the new entry gets
    becomes_current: bool  # False for an older assessment arriving late: kept in history only
    announce: bool  # publish registry.classification-changed
    previous_category: str | None

    def reason(self, submission_id: str, category: str) -> Said:
        """Why the report changed what is announced (``.text()``: in Chinese)."""
        if self.previous_category is None:
            return say("registry.archive.reason.first", submission_id=submission_id)
        if self.previous_category != category:
            return say("registry.archive.reason.category_changed", submission_id=submission_id, before=self.previous_category, after=category)
        return say("registry.archive.reason.region_changed", submission_id=submission_id, category=category)


def archive(current: CurrentClassification | None, category: str, region_code: str, assessed_on: date) -> ArchiveDecision:
    if current is None:
        return ArchiveDecision(1, True, True, None)
    version = current.latest_version + 1
    if current.assessed_on is not None and assessed_on < current.assessed_on:
        return ArchiveDecision(version, False, False, current.category)
    changed = category != current.category or region_code != current.region_code
    return ArchiveDecision(version, True, changed, current.category)


@dataclass(frozen=True)
class Held:
    """What the other services hold about an employer's current classification."""

    category: str
    region_code: str
    enterprise_name: str
    industry_codes: tuple[str, ...]
    employees: int | None

    @classmethod
    def of(cls, category: str, region_code: str, enterprise_name: str, industry_codes: Sequence[str], employees: int | None) -> Held:
        return cls(category, region_code, enterprise_name, tuple(industry_codes), employees)


def changes(before: Held | None, after: Held) -> list[str]:
    """The held fields that differ (``HELD_FIELDS`` order); a first archive: ``["category"]``.
    Empty: nothing to announce."""
    if before is None:
        return ["category"]
    return [field for field in HELD_FIELDS if getattr(before, field) != getattr(after, field)]


def changes_only_details(changed: Sequence[str]) -> bool:
    """Neither the category nor the region changed (what an announcement before ``changed`` meant)."""
    return not {"category", "region_code"} & set(changed)


def report_basis(submission_id: str) -> Said:
    """``评估报告 <id>``: a report as the basis of a change."""
    return say("registry.archive.basis.report", submission_id=submission_id)


def industry_basis() -> Said:
    return say("registry.archive.basis.industry")


def details_reason(basis: Said, changed: Sequence[str], category: str) -> Said:
    """The reason of an announcement of a name, industry or headcount change only (``basis``: what changed
    them, :func:`report_basis` or :func:`industry_basis`)."""
    fields = [say(FIELD_WORDS[field]) if field in FIELD_WORDS else field for field in changed]
    return say("registry.archive.reason.details_changed", basis=basis, fields=fields, category=category)
