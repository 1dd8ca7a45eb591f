"""Verify a published draw (一公开) from the publication file alone, offline.

    python -m services.sampling.verify publication.json

The file is what ``GET /plans/{id}/publication`` returns. Prints ``match`` or ``mismatch: <the
first difference>``. Exit code 0 on a match, 1 on a mismatch, 2 when the file is unusable (not
readable, not JSON, not a publication, or no draw published yet).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.sampling.domain.publication import Unusable, verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.sampling.verify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("publication", type=Path, help="the publication JSON file")
    args = parser.parse_args(argv)
    try:
        document = json.loads(args.publication.read_text(encoding="utf-8"))
        outcome = verify(document)
    except (OSError, ValueError) as exc:  # Unusable and JSONDecodeError are ValueErrors
        kind = "not a usable publication" if isinstance(exc, Unusable) else "cannot read it"
        print(f"unusable: {args.publication}: {kind}: {exc}", file=sys.stderr)
        return 2
    if outcome["match"]:
        plan = document["plan"]
        print(f"match: plan {plan.get('id')} {plan.get('region_code')} {plan.get('period')}, "
              f"{len(document['draw']['targets'])} targets, pool {document['draw']['pool_hash']}")
        return 0
    print(f"mismatch: {outcome['reason']}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
