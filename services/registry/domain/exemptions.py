"""免检 (credit-based exemption from inspection, RULES §6 and §8): pure rules, no I/O.

An exemption covers the days ``valid_from`` to ``valid_until``, both included, in China time:
on ``valid_until`` the employer is still exempt, the next day it is not. During it the employer
is left out of the sampling pool. The registry announces only changes of "in force":

====================  =======================================  ==========================
status                becomes                                  announces
====================  =======================================  ==========================
granted (future)      in_force on valid_from (daily sweep)      exempt = true
granted (today)       in_force at once                          exempt = true
in_force              expired the day after valid_until (sweep) exempt = false
in_force              revoked                                   exempt = false
granted (future)      revoked                                   nothing (never in force)
granted               expired, never announced (sweep missed     nothing
                      the whole period)
====================  =======================================  ==========================

An employer holds at most one exemption at a time: a grant overlapping an exemption that is
granted or in force is refused (revoke that one first).
"""

from __future__ import annotations

from datetime import date

from services.registry.domain.words import Said, say
from shared.dates import CHINA, china_today  # noqa: F401 - the day an exemption starts and ends is China's
from shared.problems import Problem

GRANTED = "granted"  # not yet in force
IN_FORCE = "in_force"
REVOKED = "revoked"
EXPIRED = "expired"
OPEN = (GRANTED, IN_FORCE)  # may still change

START, END, LAPSE = "start", "end", "lapse"


def covers(valid_from: date, valid_until: date, day: date) -> bool:
    """Is ``day`` inside the exemption (both ends included)?"""
    return valid_from <= day <= valid_until


def period_problem(valid_from: date, valid_until: date, today: date) -> Problem | None:
    """Why a new exemption's period is unusable (``str()`` English, ``text(locale)`` in Chinese by default), or None."""
    period = {"valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat()}
    if valid_until < valid_from:
        return Problem("registry.exemption.period.ends_before_start", **period)
    if valid_until < today:
        return Problem("registry.exemption.period.passed", **period, today=today.isoformat())
    return None


# --------------------------------------------------------------------------- the texts of the history and the announcements


def _period(valid_from: date, valid_until: date) -> dict[str, str]:
    return {"valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat()}


def granted(valid_from: date, valid_until: date, today: date, basis: str, reason: str) -> Said:
    """The history's note of a grant: the period, from when it is in force, the basis and the reason."""
    when = say("registry.exemption.when.now") if valid_from <= today else say("registry.exemption.when.from", valid_from=valid_from.isoformat())
    return say("registry.exemption.log.granted", **_period(valid_from, valid_until), when=when, basis=basis, reason=reason)


def granted_announced(valid_from: date, valid_until: date, reason: str) -> Said:
    return say("registry.exemption.announce.granted", **_period(valid_from, valid_until), reason=reason)


def revoked(valid_from: date, valid_until: date, reason: str) -> Said:
    return say("registry.exemption.log.revoked", **_period(valid_from, valid_until), reason=reason)


def revoked_announced(reason: str) -> Said:
    return say("registry.exemption.announce.revoked", reason=reason)


def swept(action: str, valid_from: date, valid_until: date) -> Said:
    """What the daily sweep did (``START``, ``END`` or ``LAPSE``), as the history and the announcement say it."""
    code = {START: "registry.exemption.started", END: "registry.exemption.expired", LAPSE: "registry.exemption.lapsed"}[action]
    return say(code, **_period(valid_from, valid_until))


def overlaps(a_from: date, a_until: date, b_from: date, b_until: date) -> bool:
    return a_from <= b_until and b_from <= a_until


def due(status: str, valid_from: date, valid_until: date, today: date) -> str | None:
    """What the daily sweep does with an exemption on ``today``: start, end, lapse or nothing."""
    if status == GRANTED:
        if today > valid_until:
            return LAPSE
        if valid_from <= today:
            return START
    elif status == IN_FORCE and today > valid_until:
        return END
    return None
