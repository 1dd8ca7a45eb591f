"""``ohs``: the platform's one command line, a sub-command group per service.

    ohs bulk template|employers|reports …      bulk intake through the assessment API (附件6, JSON)
    ohs registry chain verify …                the hash-chained change log of a county
    ohs registry sweep exemptions|reminders    the registry's daily sweeps (for cron)
    ohs sampling verify …                      recompute a published draw offline
    ohs sampling roster import|export …        inspector rosters
    ohs penalty sweep                          the escalation sweep (for cron)
    ohs notification check|deliver|send-test   channels and templates, one delivery run, a test e-mail

Each group is its service's ``entrypoints/cli.py``; ``ohs <group> --help`` says the rest.
"""

from __future__ import annotations

import typer

from services.assessment.entrypoints.cli import bulk_app
from services.notification.entrypoints.cli import app as notification_app
from services.penalty.entrypoints.cli import app as penalty_app
from services.registry.entrypoints.cli import app as registry_app
from services.sampling.entrypoints.cli import app as sampling_app

app = typer.Typer(help="职业卫生分类监督执法 — the platform's command line (one group per service).", no_args_is_help=True, add_completion=False)
app.add_typer(bulk_app, name="bulk")
app.add_typer(registry_app, name="registry")
app.add_typer(sampling_app, name="sampling")
app.add_typer(penalty_app, name="penalty")
app.add_typer(notification_app, name="notification")

if __name__ == "__main__":
    app()
