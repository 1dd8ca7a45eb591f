"""``ohs``: the platform's one command line, a sub-command group per service.

    ohs bulk template|employers|reports …      bulk intake through the assessment API (附件6, JSON)
    ohs registry chain verify …                the hash-chained change log of a county
    ohs registry sweep exemptions|reminders    the registry's daily sweeps (for cron)
    ohs sampling verify …                      recompute a published draw offline
    ohs sampling roster import|export …        inspector rosters
    ohs penalty sweep                          the escalation sweep (for cron)
    ohs notification check|deliver|send-test   channels and templates, one delivery run, a test e-mail
    ohs console create-account|disable       console accounts (the first administrator)
    ohs ops status|dlq|rebuild|rules|outbox    operations: lag, dead letters, rebuilds, rule data in force, the outbox
    ohs monitoring check                       the exposure limits in force for a county (online monitoring)

Each group is its service's ``entrypoints/cli.py``; ``ohs <group> --help`` says the rest.

It speaks Chinese, or English under an English locale (``LANG=en_US.UTF-8``; ``shared.i18n.cli_locale``
reads ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``): every help text and every message is a
``cli.*`` code of the catalogue (``shared/i18n/locales/<locale>/LC_MESSAGES/cli.po``). The help texts
are written when the command starts, the messages when they are printed. Typer's own words in the help
panels (Options, Commands, [required] …) follow the same language; "Usage:", "Show this message and
exit." and click's usage errors ("Invalid value for …", "No such command …") stay English: typer's
copy of click writes them as fixed strings. Machine-readable output (exported rosters, JSON) keeps its keys.
"""

from __future__ import annotations

from typing import Any

import typer

from services.assessment.entrypoints.cli import bulk_app
from services.console.entrypoints.cli import app as console_app
from services.monitoring.entrypoints.cli import app as monitoring_app
from services.notification.entrypoints.cli import app as notification_app
from services.penalty.entrypoints.cli import app as penalty_app
from services.registry.entrypoints.cli import app as registry_app
from services.sampling.entrypoints.cli import app as sampling_app
from shared import i18n
from shared.i18n import cli_text as _
from shared.ops_cli import app as ops_app


def speak_typer_words(locale: str | None = None) -> None:
    """Typer's own words in its help panels and error boxes, in the command line's language. They are
    format strings typer fills in itself (``[default: {}]``), so they are taken from the catalogue as written."""
    try:
        from typer import rich_utils
    except ImportError:  # typer without rich: click's plain help, English
        return
    words = i18n.catalogues()[locale or i18n.cli_locale()]
    for name, code in {
        "ARGUMENTS_PANEL_TITLE": "cli.typer.arguments",
        "OPTIONS_PANEL_TITLE": "cli.typer.options",
        "COMMANDS_PANEL_TITLE": "cli.typer.commands",
        "ERRORS_PANEL_TITLE": "cli.typer.error",
        "ABORTED_TEXT": "cli.typer.aborted",
        "RICH_HELP": "cli.typer.try_help",
        "DEFAULT_STRING": "cli.typer.default",
        "ENVVAR_STRING": "cli.typer.envvar",
        "REQUIRED_LONG_STRING": "cli.typer.required",
        "DEPRECATED_STRING": "cli.typer.deprecated",
    }.items():
        if code in words and hasattr(rich_utils, name):
            setattr(rich_utils, name, words[code])
    _fold_long_runs(rich_utils)


def _fold_long_runs(rich_utils: Any) -> None:
    """Rich breaks lines at spaces only and cuts a longer run short with "…" inside typer's help tables; Chinese
    runs on without spaces, so a help text would lose its middle. Typer's help texts fold instead (a line
    may break between any two characters, as Chinese is set)."""
    make = getattr(rich_utils, "_make_rich_text", None)
    if make is None or getattr(make, "folds", False):
        return
    from rich.text import Text

    def folding(*args: Any, **kwargs: Any) -> Any:
        made = make(*args, **kwargs)
        if isinstance(made, Text):
            made.overflow = "fold"
        return made

    folding.folds = True  # type: ignore[attr-defined]
    rich_utils._make_rich_text = folding


speak_typer_words()

app = typer.Typer(help=_("cli.help"), no_args_is_help=True, add_completion=False)
app.add_typer(bulk_app, name="bulk")
app.add_typer(registry_app, name="registry")
app.add_typer(sampling_app, name="sampling")
app.add_typer(penalty_app, name="penalty")
app.add_typer(notification_app, name="notification")
app.add_typer(monitoring_app, name="monitoring")
app.add_typer(console_app, name="console")
app.add_typer(ops_app, name="ops")

if __name__ == "__main__":
    app()
