"""``ohs notification`` — the notification service's command line.

    ohs notification check                       the channels the settings turn on, and the templates in force
    ohs notification deliver [--database-url URL]  one delivery run now (what the service does every few seconds)
    ohs notification send-test --to ADDRESS      one test e-mail through OHS_SMTP_URL, at once

``check`` exits 2 when OHS_SMTP_URL, OHS_SMS_ADAPTER or a template file is unusable (the service would not
start). ``deliver`` prints one line per delivery: sent, retrying (with the next attempt) or failed (with
the reason). Exit code 0, or 2 on a usage, configuration or database problem. Help and messages are
``cli.notification.*`` codes: Chinese, or English under ``LANG=en_*`` (services/cli.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from services.notification.adapters.channels import ChannelConfigError, DeliveryFailed, EmailChannel, OutgoingNotification, build_channels
from services.notification.adapters.rules import load_templates
from services.notification.service_layer.delivery import deliver_due
from services.notification.service_layer.unit_of_work import NotificationUnitOfWork
from shared import i18n
from shared.i18n import cli_text as _, cli_said as said
from shared.contracts import utc_now
from shared.db import make_engine
from shared.rules_in_force import RuleDataError


app = typer.Typer(help=_("cli.notification.help"), no_args_is_help=True)


def _settings():  # noqa: ANN202 - Settings, imported late like the other services' commands
    from shared.settings import settings_for

    return settings_for("notification")


def channel_name(name: str) -> str:
    """A channel as the reader calls it (its setting's name when it is none of the known ones)."""
    names = {"inbox": "cli.notification.channel.inbox", "email": "cli.notification.channel.email", "sms": "cli.notification.channel.sms"}
    return _(names[name]) if name in names else name


@app.command(help=_("cli.notification.check.help"))
def check() -> None:
    """Say which channels are on (the inbox always; e-mail, SMS by the settings) and which templates are loaded."""
    settings = _settings()
    try:
        channels = build_channels(settings)
        templates = load_templates(settings.rules_dir)
    except (ChannelConfigError, RuleDataError) as error:
        typer.echo(_("cli.notification.would_not_start", error=said(error)), err=True)
        raise typer.Exit(2) from error
    typer.echo(_("cli.notification.channels", channels=[channel_name(name) for name in ["inbox", *channels]]))
    if "email" in channels:
        typer.echo(_("cli.notification.email", server=repr(channels["email"].server), sender=str(settings.mail_from)))  # type: ignore[attr-defined]
    if settings.sms_adapter:
        typer.echo(_("cli.notification.sms", adapter=str(settings.sms_adapter)))
    else:
        typer.echo(_("cli.notification.sms_off"))
    typer.echo(_("cli.notification.attempts", attempts=settings.delivery_max_attempts))
    for item in templates.templates:
        typer.echo(_("cli.notification.template", ref=item.ref(), since=str(item.effective_from), origin=str(item.origin)))


@app.command(help=_("cli.notification.deliver.help"))
def deliver(
    database_url: Annotated[str | None, typer.Option("--database-url", help=_("cli.notification.option.database_url"))] = None,
) -> None:
    """Deliver every pending delivery that is due now (the running service does it every few seconds)."""
    from shared.migrations import upgrade

    settings = _settings()
    try:
        channels = build_channels(settings)
    except ChannelConfigError as error:
        typer.echo(_("cli.notification.deliver_failed", error=said(error)), err=True)
        raise typer.Exit(2) from error
    engine = make_engine(database_url or settings.resolved_database_url())
    try:
        upgrade("notification", engine)
        report = deliver_due(lambda: NotificationUnitOfWork(engine), channels, utc_now(), settings.delivery_max_attempts)
    except Exception as error:  # noqa: BLE001 - an operator's command: say what failed
        typer.echo(_("cli.notification.deliver_failed", error=said(error)), err=True)
        raise typer.Exit(2) from error
    finally:
        engine.dispose()
    for line in report.lines():
        typer.echo(said(line))
    typer.echo(_("cli.notification.delivered", sent=len(report.sent), retrying=len(report.retrying), failed=len(report.failed)))


@app.command("send-test", help=_("cli.notification.send_test.help"))
def send_test(to: Annotated[str, typer.Option("--to", help=_("cli.notification.send_test.to"))]) -> None:
    """Send one test e-mail through OHS_SMTP_URL now, and say what the server answered."""
    settings = _settings()
    try:
        channel = EmailChannel.from_settings(settings)
        channel.send(OutgoingNotification(str(uuid.uuid4()), _("cli.notification.send_test.subject"),
                                          _("cli.notification.send_test.body"), ""), to)
    except (ChannelConfigError, DeliveryFailed) as error:
        typer.echo(_("cli.notification.send_test.failed", error=said(error)), err=True)
        raise typer.Exit(2) from error
    typer.echo(_("cli.notification.send_test.sent", to=to, server=repr(channel.server)))


if __name__ == "__main__":
    app()
