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
from typing import Literal

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


class DisqualificationRefused(ValueError):
    """A disqualification that cannot be decided; the message says why (and which field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


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
    parts = [f"{f.found_on.isoformat()} {f.description}" for f in findings]
    return "出具虚假综合风险评估报告, 情节严重: " + "; ".join(parts)


def check_disqualification(
    role: str, serious: list[FindingFacts], decided_on: date, until: date | None, today: date
) -> None:
    """Raise :class:`DisqualificationRefused` unless the province may disqualify on these findings."""
    if role != DECIDING_ROLE:
        raise DisqualificationRefused(
            "role", f"a disqualification is decided by the province (the level that approves the qualification), not a {role}; "
            "record the finding as serious and it is referred upward"
        )
    if not serious:
        raise DisqualificationRefused("finding_ids", "a disqualification rests on at least one serious false-report finding of this organisation")
    if decided_on > today:
        raise DisqualificationRefused("decided_on", f"{decided_on} is in the future")
    if until is not None and until <= decided_on:
        raise DisqualificationRefused("until", f"{until} is not after decided_on {decided_on}")
    earliest = min(f.found_on for f in serious)
    if decided_on < earliest:
        raise DisqualificationRefused("decided_on", f"{decided_on} is before the finding it rests on ({earliest})")
