"""Verify a published draw (一公开) from the publication file alone, offline.

    python -m services.sampling.verify publication.json

An alias of ``ohs sampling verify`` (services/sampling/entrypoints/cli.py): prints ``match`` or
``mismatch: <the first difference>``; exit code 0 on a match, 1 on a mismatch, 2 when the file is
unusable.
"""

from __future__ import annotations

import sys

from services.sampling.entrypoints.cli import run


def main(argv: list[str] | None = None) -> int:
    return run(["verify", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
