"""``python -m services.registry.sweep [--today YYYY-MM-DD] [--within-days N] [--database-url URL]``:
the daily sweeps at once (``ohs registry sweep exemptions``, ``reminders``, then ``rectifications``,
``services.registry.entrypoints.cli``), kept for existing cron entries. Exit code 0, or 2 on a
usage or database problem."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from services.registry.entrypoints.cli import DEFAULT_WITHIN_DAYS, _, run_sweeps
from services.registry.entrypoints.cli import sweep_exemptions as run
from services.registry.entrypoints.cli import sweep_reminders as run_reminders

__all__ = ["DEFAULT_WITHIN_DAYS", "main", "run", "run_reminders"]


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("cli.bad_date", value=value)) from None


def main(argv: list[str] | None = None) -> int:
    """The help and messages in the command line's language (``LANG=en_*``: English); argparse's own
    words ("usage:", "options:") stay English."""
    parser = argparse.ArgumentParser(prog="python -m services.registry.sweep", description=_("cli.registry.sweep.all.help"))
    parser.add_argument("--today", type=_day, metavar="YYYY-MM-DD", help=_("cli.option.today"))
    parser.add_argument("--within-days", type=int, help=_("cli.registry.option.within_days", days=DEFAULT_WITHIN_DAYS))
    parser.add_argument("--database-url", help=_("cli.registry.option.database_url"))
    args = parser.parse_args(argv)
    return run_sweeps(args.database_url, args.today, args.within_days, exemption=True, reminder=True, rectifications=True)


if __name__ == "__main__":
    sys.exit(main())
