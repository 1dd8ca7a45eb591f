"""Inspector roster files (执法检查人员名录库), CSV or JSON: reading and writing.

CSV: a header ``id,name[,active][,conflicts]``; ``active`` is true/false (default true);
``conflicts`` lists ``credit_code:reason`` pairs separated by ``;``. One agency per file.
JSON: ``{"inspectors": [{"id", "name", "active", "conflicts": [{"credit_code", "reason"}]}]}`` or the
list alone (one agency), or ``{"agencies": {"141024": [...], ...}}`` (several).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

FALSE = ("false", "0", "no", "否")


def read_roster_file(path: Path, region: str | None) -> dict[str, Any]:
    """Region -> the roster as written (``{"inspectors": [...]}``), not yet validated; a file of
    several agencies is read for ``region`` only, or for all of them without it. ValueError naming
    the problem; OSError when the file cannot be read."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        if not region:
            raise ValueError("a CSV roster needs --region")
        inspectors: list[dict[str, Any]] = []
        for row in csv.DictReader(text.splitlines()):
            if not (row.get("id") or "").strip():
                continue
            conflicts = []
            for pair in filter(None, (p.strip() for p in (row.get("conflicts") or "").split(";"))):
                code, _, reason = pair.partition(":")
                conflicts.append({"credit_code": code.strip(), "reason": reason.strip() or "回避"})
            active = (row.get("active") or "true").strip().lower() not in FALSE
            inspectors.append({"id": row["id"].strip(), "name": (row.get("name") or "").strip(), "active": active, "conflicts": conflicts})
        return {region: {"inspectors": inspectors}}
    data = json.loads(text)
    if isinstance(data, dict) and isinstance(data.get("agencies"), dict):
        rosters = {code: {"inspectors": items} if isinstance(items, list) else items for code, items in data["agencies"].items()}
        if region:
            if region not in rosters:
                raise ValueError(f"{path} has no roster for {region} (it has {', '.join(sorted(rosters))})")
            rosters = {region: rosters[region]}
        return rosters
    if not region:
        raise ValueError("a single roster needs --region")
    return {region: {"inspectors": data} if isinstance(data, list) else data}


def roster_file_text(rosters: dict[str, dict[str, Any]], csv_format: bool) -> str:
    """Rosters (region -> ``{"inspectors": [...]}`` as ``GET /inspectors/{region}`` shows them) as a file
    that :func:`read_roster_file` reads back: JSON ``{"agencies": …}``, or CSV for one agency."""
    if not csv_format:
        agencies = {region: roster["inspectors"] for region, roster in sorted(rosters.items())}
        return json.dumps({"agencies": agencies}, ensure_ascii=False, indent=2) + "\n"
    if len(rosters) != 1:
        raise ValueError("a CSV roster holds one agency: give --region")
    [roster] = rosters.values()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "name", "active", "conflicts"])
    for i in roster["inspectors"]:
        writer.writerow([i["id"], i["name"], "true" if i["active"] else "false",
                         ";".join(f"{c['credit_code']}:{c['reason']}" for c in i["conflicts"])])
    return out.getvalue()
