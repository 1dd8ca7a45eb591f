"""The penalty service's daily escalation sweep (三步法, 逾期处罚): every case awaiting correction whose
rectification or commitment deadline is before today escalates to a penalty case.

    python -m services.penalty.sweep [--today YYYY-MM-DD] [--database-url URL]

The running service does the same on a timer (hourly, and once at start-up), so this command is for
cron or for an operator. Idempotent: a second run changes nothing and announces nothing (an escalated
case no longer awaits correction). The deadline day itself is still in time. The events go to the
outbox in the same transaction; the running service publishes them within a second (or at its next
start). Prints one line per escalation. Exit code 0, or 2 on a usage or database problem.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from services.penalty.service_layer.handlers import Rulebook, sweep_escalations
from shared.dates import china_today
from shared.db import make_engine


def run(engine: Engine, today: date | None = None, rulebook: Rulebook | None = None) -> list[str]:
    """One sweep in its own transaction; returns what escalated."""
    with Session(engine) as session:
        done = sweep_escalations(session, today or china_today(), rulebook or Rulebook.load(None))
        session.commit()
        return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.penalty.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--today", type=date.fromisoformat, help="the day to sweep for (default: today in China)")
    parser.add_argument("--database-url", help="default: DATABASE_URL, or the penalty service's SQLite file")
    args = parser.parse_args(argv)
    from shared.migrations import upgrade
    from shared.settings import settings_for

    settings = settings_for("penalty")
    today = args.today or china_today()
    engine = make_engine(args.database_url or settings.resolved_database_url())
    try:
        rulebook = Rulebook.load(settings.rules_dir)
        upgrade("penalty", engine)  # the same schema the service would bring it to at start-up
        done = run(engine, today, rulebook)
    except Exception as error:  # noqa: BLE001 - an operator's command: say what failed
        print(f"sweep failed: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for line in done:
        print(line)
    print(f"{len(done)} case(s) escalated for {today.isoformat()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
