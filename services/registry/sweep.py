"""The daily 免检 sweep: start the exemptions due today, expire those whose last day has passed.

    python -m services.registry.sweep [--today YYYY-MM-DD] [--database-url URL]

The running registry does the same on a timer (hourly, and once at start-up), so this command is
for cron or for an operator. It is idempotent: a second run on the same day changes nothing and
announces nothing. The events go to the registry's outbox in the same transaction; the running
registry publishes them within a second (or at its next start). Prints one line per change.
Exit code 0, or 2 on a usage or database problem.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from services.registry.domain.exemptions import china_today
from services.registry.service_layer.exemptions import sweep_exemptions
from shared.db import make_engine


def run(engine: Engine, today: date | None = None) -> list[str]:
    """One sweep in its own transaction; returns what changed."""
    with Session(engine) as session:
        done = sweep_exemptions(session, today or china_today())
        session.commit()
        return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.registry.sweep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--today", type=date.fromisoformat, help="the day to sweep for (default: today in China)")
    parser.add_argument("--database-url", help="default: DATABASE_URL, or the registry's SQLite file")
    args = parser.parse_args(argv)
    from shared.migrations import upgrade
    from shared.settings import settings_for

    url = args.database_url or settings_for("registry").resolved_database_url()
    engine = make_engine(url)
    try:
        upgrade("registry", engine)  # the same schema the service would bring it to at start-up
        done = run(engine, args.today)
    except Exception as error:  # noqa: BLE001 - an operator's command: say what failed
        print(f"sweep failed: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for line in done:
        print(line)
    print(f"{len(done)} exemption change(s) for {(args.today or china_today()).isoformat()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
