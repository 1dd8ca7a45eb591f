"""Load an agency's inspector roster (执法检查人员名录库) from a file into the sampling database.

    python -m services.sampling.roster load <file.csv|file.json> --region 141024 [--database-url URL]

It replaces the agency's roster (inspectors and their declared conflicts), as
``PUT /inspectors/{region}`` does. CSV: a header ``id,name[,active][,conflicts]``; ``active`` is
true/false (default true); ``conflicts`` lists ``credit_code:reason`` pairs separated by ``;``.
JSON: ``{"inspectors": [{"id", "name", "active", "conflicts": [{"credit_code", "reason"}]}]}`` or
the list alone; a file of several agencies ``{"agencies": {"141024": [...], ...}}`` is loaded for
``--region`` only (or for every agency in it without ``--region``). Exit code 0, or 2 on a usage,
file or database problem.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from services.sampling.service_layer.plans import RosterIn, replace_roster
from shared.identifiers import region_problem


def read_rosters(path: Path, region: str | None) -> dict[str, RosterIn]:
    """Region -> roster from the file; ValueError naming the problem."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        if not region:
            raise ValueError("a CSV roster needs --region")
        inspectors: list[dict[str, Any]] = []
        for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
            if not (row.get("id") or "").strip():
                continue
            conflicts = []
            for pair in filter(None, (p.strip() for p in (row.get("conflicts") or "").split(";"))):
                code, _, reason = pair.partition(":")
                conflicts.append({"credit_code": code.strip(), "reason": reason.strip() or "回避"})
            active = (row.get("active") or "true").strip().lower() not in ("false", "0", "no", "否")
            inspectors.append({"id": row["id"].strip(), "name": (row.get("name") or "").strip(), "active": active, "conflicts": conflicts})
        rosters: dict[str, Any] = {region: {"inspectors": inspectors}}
    else:
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("agencies"), dict):
            rosters = {code: {"inspectors": items} if isinstance(items, list) else items for code, items in data["agencies"].items()}
            if region:
                if region not in rosters:
                    raise ValueError(f"{path} has no roster for {region} (it has {', '.join(sorted(rosters))})")
                rosters = {region: rosters[region]}
        else:
            if not region:
                raise ValueError("a single roster needs --region")
            rosters = {region: {"inspectors": data} if isinstance(data, list) else data}
    out = {}
    for code, roster in rosters.items():
        if problem := region_problem(code):
            raise ValueError(f"region {code!r}: {problem}")
        try:
            out[code] = RosterIn.model_validate(roster)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False))
            raise ValueError(f"roster for {code} in {path} is invalid: {problems}") from exc
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.sampling.roster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    load = sub.add_parser("load", help="replace an agency's roster from a CSV or JSON file")
    load.add_argument("file", type=Path)
    load.add_argument("--region", help="the agency's GB/T 2260 code (e.g. 141024)")
    load.add_argument("--database-url", help="default: DATABASE_URL, or the sampling service's SQLite file")
    args = parser.parse_args(argv)
    try:
        rosters = read_rosters(args.file, args.region)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from shared.db import make_engine
    from shared.migrations import upgrade
    from shared.settings import settings_for

    url = args.database_url or settings_for("sampling").resolved_database_url()
    engine = make_engine(url)
    try:
        upgrade("sampling", engine)
        with Session(engine) as session:
            for code, roster in rosters.items():
                replace_roster(session, code, roster)
            session.commit()
    except Exception as exc:  # noqa: BLE001 - a CLI reports and exits
        print(f"error: database {url}: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for code, roster in rosters.items():
        print(f"{code}: {len(roster.inspectors)} inspectors loaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
