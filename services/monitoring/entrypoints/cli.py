"""``ohs monitoring`` — the monitoring service's command line.

    ohs monitoring check [--region-code 141029]   the limit files load; the limits in force for the county today

Exit code 0, or 2 when a limits file is unusable (the service would not start) or none is in force for the county.
Help and messages are ``cli.monitoring.*`` codes: Chinese, or English under ``LANG=en_*`` (services/cli.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.dates import china_today
from shared.i18n import cli_said as said
from shared.i18n import cli_text as _
from shared.identifiers import county_region_problem
from shared.rules_in_force import NoApplicableRules, RuleDataError

app = typer.Typer(help=_("cli.monitoring.help"), no_args_is_help=True)


@app.callback()
def monitoring() -> None:
    """A group of commands (``check``, and those to come)."""


@app.command("check", help=_("cli.monitoring.check.help"))
def check(region_code: Annotated[str, typer.Option(help=_("cli.monitoring.check.region_code"))] = "141029") -> None:
    from services.monitoring.adapters.rules import load_limits
    from shared.settings import settings_for

    if problem := county_region_problem(region_code):
        typer.echo(said(problem), err=True)
        raise typer.Exit(2)
    try:
        book = load_limits(settings_for("monitoring").rules_dir)
        limits = book.in_force(region_code, china_today())
    except (RuleDataError, NoApplicableRules) as error:
        typer.echo(_("cli.monitoring.would_not_start", error=str(error)), err=True)
        raise typer.Exit(2) from None
    typer.echo(_("cli.monitoring.in_force", version=limits.label(), effective_from=limits.effective_from.isoformat(),
                 provisional=limits.provisional, file=limits.origin or ""))
    for factor in limits.factors:
        shown = {name: "—" if value is None else f"{value:g}" for name, value in (("twa", factor.twa), ("stel", factor.stel), ("peak", factor.peak))}
        typer.echo(_("cli.monitoring.factor", factor=factor.factor, unit=factor.unit, **shown))
