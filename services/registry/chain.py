"""``python -m services.registry.chain verify (--region 141029 | --all) [--database-url URL]``: an
alias of ``ohs registry chain verify`` (``services.registry.entrypoints.cli``), kept for existing
scripts. Exit code 0 when every chain verified holds, 1 when one is broken, 2 on a usage or
database problem."""

from __future__ import annotations

import sys

from services.registry.entrypoints.cli import chain_app, run


def main(argv: list[str] | None = None) -> int:
    return run(chain_app, list(sys.argv[1:] if argv is None else argv), "python -m services.registry.chain")


if __name__ == "__main__":
    sys.exit(main())
