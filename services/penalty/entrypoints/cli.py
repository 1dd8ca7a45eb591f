"""``ohs penalty`` — the penalty service's command line.

    ohs penalty sweep [--today YYYY-MM-DD] [--database-url URL]

``sweep``: the daily escalation sweep (三步法, 逾期处罚): every case awaiting correction whose
rectification or commitment deadline is before today escalates to a penalty case. The running
service does the same on a timer (hourly, and once at start-up), so this command is for cron or for
an operator. Idempotent: a second run changes nothing and announces nothing (an escalated case no
longer awaits correction). The deadline day itself is still in time. The events go to the outbox in
the same transaction; the running service publishes them within a second (or at its next start).
Prints one line per escalation. Exit code 0, or 2 on a usage or database problem.
(``python -m services.penalty.sweep`` is the same command.) Help and messages are ``cli.penalty.*``
codes: Chinese, or English under ``LANG=en_*`` (services/cli.py).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from services.penalty.adapters.rules import Rulebook
from services.penalty.service_layer import handlers
from services.penalty.service_layer.unit_of_work import PenaltyUnitOfWork
from shared import i18n
from shared.i18n import cli_text as _, cli_said as said
from shared.cli_options import day_given
from shared.dates import china_today
from shared.db import make_engine


app = typer.Typer(help=_("cli.penalty.help"), no_args_is_help=True)


@app.command(help=_("cli.penalty.sweep.help"))
def sweep(
    today: Annotated[date | None, typer.Option("--today", metavar="YYYY-MM-DD", parser=day_given, help=_("cli.option.today"))] = None,
    database_url: Annotated[str | None, typer.Option("--database-url", help=_("cli.penalty.option.database_url"))] = None,
) -> None:
    """Escalate every case whose rectification or commitment deadline passed without verified correction."""
    from shared.migrations import upgrade
    from shared.settings import settings_for

    day = today or china_today()
    settings = settings_for("penalty")
    engine = make_engine(database_url or settings.resolved_database_url())
    try:
        rulebook = Rulebook.load(settings.rules_dir)
        upgrade("penalty", engine)  # the same schema the service would bring it to at start-up
        with PenaltyUnitOfWork(engine) as uow:
            done = handlers.sweep_escalations(uow, day, rulebook)
    except Exception as error:  # noqa: BLE001 - an operator's command: say what failed
        typer.echo(_("cli.sweep_failed", error=said(error)), err=True)
        raise typer.Exit(2) from error
    finally:
        engine.dispose()
    for line in done:
        typer.echo(said(line))
    typer.echo(_("cli.penalty.sweep.done", count=len(done), day=day.isoformat()))


@app.callback()
def _penalty() -> None:
    """(``sweep`` stays a sub-command even while it is the only one.)"""


if __name__ == "__main__":
    app()
