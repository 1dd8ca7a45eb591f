"""Technical service organisations (职业卫生技术服务机构) and false reports: pure rules (RULES §8).

An agency that finds an organisation's comprehensive risk assessment report false records a
*finding*: what the report misstated (hazards, exposure, headcount, management), against which
employer and report, and how serious it is. A minor finding stays on the organisation's record.
A serious one disqualifies the organisation from comprehensive risk assessment work — decided by
the province (the level that approves such organisations' qualifications): a county or city that
finds it records it and refers it upward; province staff decide the disqualification with its
document number, at once with the finding or later on the referred ones. The disqualification
is announced (``ohs.orgs.disqualified``): the assessment service then refuses that organisation's
reports, and the credit feed publishes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from services.penalty.domain import words
from shared import i18n

Severity = Literal["minor", "serious"]
Misstatement = Literal["hazards", "exposure", "headcount", "management", "other"]
MISSTATEMENTS: dict[str, str] = {
    "hazards": "危害因素 hazard factors",
    "exposure": "接触水平 exposure levels",
    "headcount": "接触人数 headcount",
    "management": "管理状况 management status",
    "other": "其他",
}
DECIDING_ROLE = "province"
ROLE = {"county": "县", "city": "市", "province": "省"}  # a staff token's level, named as a term


class DisqualificationRefused(ValueError):
    """A disqualification that cannot be decided: which field, and why as a message code and its parameters
    (``shared.i18n``); ``message`` is the Chinese text."""

    def __init__(self, field: str, code: str, params: dict[str, Any] | None = None) -> None:
        self.field, self.code, self.params = field, code, dict(params or {})
        self.message = i18n.text(code, self.params)
        super().__init__(f"{field}: {self.message}")

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        return i18n.text(self.code, self.params, locale)


@dataclass(frozen=True)
class FindingFacts:
    id: str
    severity: str
    found_on: date
    description: str


def finding_status(severity: str) -> str:
    """A new finding's status: minor → recorded; serious → referred (to the province) until it disqualifies."""
    return "recorded" if severity == "minor" else "referred"


def disqualification_reason(findings: list[FindingFacts], given: str | None) -> str:
    """The published reason: the deciding agency's words, else the serious findings it rests on."""
    if given:
        return given
    parts = [f"{i18n.local_date(f.found_on)} {f.description}" for f in findings]
    return i18n.text("penalty.org.disqualification_reason", {"findings": "；".join(parts)})


def check_disqualification(
    role: str, serious: list[FindingFacts], decided_on: date, until: date | None, today: date
) -> None:
    """Raise :class:`DisqualificationRefused` unless the province may disqualify on these findings."""
    if role != DECIDING_ROLE:
        raise DisqualificationRefused("role", "penalty.error.org.not_province", {"role": words.named(ROLE, role)})
    if not serious:
        raise DisqualificationRefused("finding_ids", "penalty.error.org.no_serious_finding")
    if decided_on > today:
        raise DisqualificationRefused("decided_on", "penalty.error.org.decided_in_future", {"decided_on": decided_on.isoformat()})
    if until is not None and until <= decided_on:
        raise DisqualificationRefused("until", "penalty.error.org.until_not_after", {"until": until.isoformat(),
                                                                                   "decided_on": decided_on.isoformat()})
    earliest = min(f.found_on for f in serious)
    if decided_on < earliest:
        raise DisqualificationRefused("decided_on", "penalty.error.org.decided_before_finding", {
            "decided_on": decided_on.isoformat(), "found_on": earliest.isoformat()})
