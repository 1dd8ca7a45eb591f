"""Load an agency's inspector roster (执法检查人员名录库) from a file into the sampling database.

    python -m services.sampling.roster load <file.csv|file.json> --region 141024 [--database-url URL]

An alias of ``ohs sampling roster import`` (services/sampling/entrypoints/cli.py), which describes
the files; ``load`` is ``import``, the other sub-commands are passed on as they are. Exit code 0,
or 2 on a usage, file or database problem.
"""

from __future__ import annotations

import sys

from services.sampling.entrypoints.cli import read_rosters, run

__all__ = ["main", "read_rosters"]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["load"]:
        args[0] = "import"
    return run(["roster", *args])


if __name__ == "__main__":
    sys.exit(main())
