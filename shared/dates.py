"""Calendar arithmetic the rules need in several services."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")  # deadlines, exemptions and findings are China dates


def china_today(now: datetime | None = None) -> date:
    """Today's date in China (UTC+8), whatever the server's time zone."""
    return (now or datetime.now(timezone.utc)).astimezone(CHINA).date()


def add_months(day: date, months: int) -> date:
    """``months`` calendar months later (earlier when negative), clamped to the month's last day:
    2023-12-31 + 2 → 2024-02-29; 2024-02-29 + 36 → 2027-02-28; 2024-02-29 − 12 → 2023-02-28."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
