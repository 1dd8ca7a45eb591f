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

from shared.dates import CHINA, china_today  # noqa: F401 - the day an exemption starts and ends is China's

GRANTED = "granted"  # not yet in force
IN_FORCE = "in_force"
REVOKED = "revoked"
EXPIRED = "expired"
OPEN = (GRANTED, IN_FORCE)  # may still change

START, END, LAPSE = "start", "end", "lapse"


def covers(valid_from: date, valid_until: date, day: date) -> bool:
    """Is ``day`` inside the exemption (both ends included)?"""
    return valid_from <= day <= valid_until


def period_problem(valid_from: date, valid_until: date, today: date) -> str | None:
    """Why a new exemption's period is unusable, or None."""
    if valid_until < valid_from:
        return f"valid_until {valid_until} is before valid_from {valid_from}"
    if valid_until < today:
        return f"valid_until {valid_until} has passed (today is {today} in China): nothing to exempt"
    return None


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
