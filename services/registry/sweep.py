"""The registry's daily sweeps: 免检 (start the exemptions due today, expire those whose last day
has passed) and reminders (re-assessments due soon or overdue, first assessments overdue).

    python -m services.registry.sweep [--today YYYY-MM-DD] [--within-days N] [--database-url URL]

The running registry does the same on a timer (hourly, and once at start-up), so this command is
for cron or for an operator. Both sweeps are idempotent: a second run on the same day changes
nothing and announces nothing. The events go to the registry's outbox in the same transaction;
the running registry publishes them within a second (or at its next start). Prints one line per
change or reminder. Exit code 0, or 2 on a usage or database problem.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from services.registry.domain.exemptions import china_today
from services.registry.service_layer.exemptions import sweep_exemptions
from services.registry.service_layer.reminders import sweep_reminders
from shared.db import make_engine

DEFAULT_WITHIN_DAYS = 90  # the default of OHS_REMINDER_WITHIN_DAYS


def run(engine: Engine, today: date | None = None) -> list[str]:
    """One 免检 sweep in its own transaction; returns what changed."""
    with Session(engine) as session:
        done = sweep_exemptions(session, today or china_today())
        session.commit()
        return done


def run_reminders(engine: Engine, today: date | None = None, within_days: int = DEFAULT_WITHIN_DAYS) -> list[str]:
    """One reminder sweep in its own transaction; returns the reminders sent."""
    with Session(engine) as session:
        done = sweep_reminders(session, today or china_today(), within_days)
        session.commit()
        return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.registry.sweep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--today", type=date.fromisoformat, help="the day to sweep for (default: today in China)")
    parser.add_argument("--within-days", type=int, help="a re-assessment due within this many days is due soon (default: OHS_REMINDER_WITHIN_DAYS, 90)")
    parser.add_argument("--database-url", help="default: DATABASE_URL, or the registry's SQLite file")
    args = parser.parse_args(argv)
    from shared.migrations import upgrade
    from shared.settings import settings_for

    settings = settings_for("registry")
    within_days = settings.reminder_within_days if args.within_days is None else args.within_days
    if within_days < 0:
        parser.error(f"--within-days must not be negative (got {within_days})")
    today = args.today or china_today()
    url = args.database_url or settings.resolved_database_url()
    engine = make_engine(url)
    try:
        upgrade("registry", engine)  # the same schema the service would bring it to at start-up
        changed = run(engine, today)
        reminded = run_reminders(engine, today, within_days)
    except Exception as error:  # noqa: BLE001 - an operator's command: say what failed
        print(f"sweep failed: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for line in [*changed, *reminded]:
        print(line)
    print(f"{len(changed)} exemption change(s) for {today.isoformat()}")
    print(f"{len(reminded)} reminder(s) sent for {today.isoformat()} (due soon: within {within_days} days)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
