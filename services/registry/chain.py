"""Verify the registry's hash-chained change log from the command line.

    python -m services.registry.chain verify --region 141029 [--database-url URL]
    python -m services.registry.chain verify --all

Reads the registry database (``DATABASE_URL``, or the registry's default SQLite file) without
changing it. Prints ``OK`` with the number of entries and the head hash (keep it: a chain
rewritten later from some entry on no longer ends in it), or the first broken entry by seq and
credit code. Exit code 0 when every chain verified holds, 1 when one is broken, 2 on a usage or
database problem.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import inspect
from sqlmodel import Session

from services.registry.service_layer.chain_log import chained_regions, verify_region
from shared.db import make_engine
from shared.identifiers import county_region_problem


def _database_url(given: str | None) -> str:
    if given:
        return given
    from shared.settings import settings_for

    return settings_for("registry").resolved_database_url()


def verify_command(database_url: str | None, region: str | None, every: bool) -> int:
    url = _database_url(database_url)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        print(f"no database at {url}", file=sys.stderr)  # and do not create an empty one
        return 2
    engine = make_engine(url)
    try:
        if "registry_change_log" not in inspect(engine).get_table_names():
            print("no change log in this database (not a registry database, or not yet upgraded)", file=sys.stderr)
            return 2
        broken = 0
        with Session(engine) as session:
            regions = chained_regions(session) if every else [region]
            if every and not regions:
                print("no chains yet")
            for code in regions:
                result = verify_region(session, code)  # type: ignore[arg-type]
                if result.ok:
                    head = f", head {result.head_hash}" if result.head_hash else ""
                    print(f"OK {code}: {result.checked} entries verified{head}")
                else:
                    broken += 1
                    who = f" (credit code {result.credit_code})" if result.credit_code else ""
                    print(f"BROKEN {code}: entry {result.first_broken}{who}: {result.reason}")
        return 1 if broken else 0
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.registry.chain", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="verify one county's chain, or every chain")
    which = verify.add_mutually_exclusive_group(required=True)
    which.add_argument("--region", help="county-level GB/T 2260 code, e.g. 141029")
    which.add_argument("--all", action="store_true", dest="every", help="every region with a chain")
    verify.add_argument("--database-url", help="default: DATABASE_URL, or the registry's SQLite file")
    args = parser.parse_args(argv)
    if args.region and (problem := county_region_problem(args.region)):
        parser.error(f"--region {args.region}: {problem}")
    return verify_command(args.database_url, args.region, args.every)


if __name__ == "__main__":
    sys.exit(main())
