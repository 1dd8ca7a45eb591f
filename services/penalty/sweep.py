"""``python -m services.penalty.sweep [--today YYYY-MM-DD] [--database-url URL]``: an alias of
``ohs penalty sweep`` (``services.penalty.entrypoints.cli``), kept for existing cron entries."""

from __future__ import annotations

import sys

import typer

from services.penalty.entrypoints.cli import app


def main(argv: list[str] | None = None) -> int:
    """Run ``sweep`` with ``argv``; the exit code (0, or 2 on a usage or database problem)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        typer.main.get_command(app).commands["sweep"].main(args, prog_name="python -m services.penalty.sweep")  # type: ignore[attr-defined]
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
