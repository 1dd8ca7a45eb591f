"""``python -m services.registry.sweep [--today YYYY-MM-DD] [--within-days N] [--database-url URL]``:
the daily sweeps at once (``ohs registry sweep exemptions``, ``reminders``, then ``rectifications``,
``services.registry.entrypoints.cli``), kept for existing cron entries. Exit code 0, or 2 on a
usage or database problem."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from services.registry.entrypoints.cli import DEFAULT_WITHIN_DAYS, run_sweeps
from services.registry.entrypoints.cli import sweep_exemptions as run
from services.registry.entrypoints.cli import sweep_reminders as run_reminders

__all__ = ["DEFAULT_WITHIN_DAYS", "main", "run", "run_reminders"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.registry.sweep", description=__doc__)
    parser.add_argument("--today", type=date.fromisoformat, help="the day to sweep for (default: today in China)")
    parser.add_argument("--within-days", type=int, help="a re-assessment due within this many days is due soon (default: OHS_REMINDER_WITHIN_DAYS, 90)")
    parser.add_argument("--database-url", help="default: DATABASE_URL, or the registry's SQLite file")
    args = parser.parse_args(argv)
    return run_sweeps(args.database_url, args.today, args.within_days, exemption=True, reminder=True, rectifications=True)


if __name__ == "__main__":
    sys.exit(main())
