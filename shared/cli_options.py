"""What the ``ohs`` commands of several services parse alike."""

from __future__ import annotations

from datetime import date

import typer

from shared.i18n import cli_text


def day_given(value: str) -> date:
    """``--today``: an ISO date, or a usage error saying so (in the command line's language)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(cli_text("cli.bad_date", value=value)) from None
