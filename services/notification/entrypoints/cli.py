"""``ohs notification`` — the notification service's command line.

    ohs notification check                       the channels the settings turn on, and the templates in force
    ohs notification deliver [--database-url URL]  one delivery run now (what the service does every few seconds)
    ohs notification send-test --to ADDRESS      one test e-mail through OHS_SMTP_URL, at once

``check`` exits 2 when OHS_SMTP_URL, OHS_SMS_ADAPTER or a template file is unusable (the service would not
start). ``deliver`` prints one line per delivery: sent, retrying (with the next attempt) or failed (with
the reason). Exit code 0, or 2 on a usage, configuration or database problem.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from services.notification.adapters.channels import ChannelConfigError, DeliveryFailed, EmailChannel, OutgoingNotification, build_channels
from services.notification.adapters.rules import load_templates
from services.notification.service_layer.delivery import deliver_due
from services.notification.service_layer.unit_of_work import NotificationUnitOfWork
from shared.contracts import utc_now
from shared.db import make_engine
from shared.rules_in_force import RuleDataError

app = typer.Typer(help="The notification service: channels, deliveries, a test e-mail.", no_args_is_help=True)


def _settings():  # noqa: ANN202 - Settings, imported late like the other services' commands
    from shared.settings import settings_for

    return settings_for("notification")


@app.command()
def check() -> None:
    """Say which channels are on (the inbox always; e-mail, SMS by the settings) and which templates are loaded."""
    settings = _settings()
    try:
        channels = build_channels(settings)
        templates = load_templates(settings.rules_dir)
    except (ChannelConfigError, RuleDataError) as error:
        typer.echo(f"notification would not start: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo("channels: inbox" + "".join(f", {name}" for name in channels))
    if "email" in channels:
        typer.echo(f"e-mail: {channels['email'].server!r} from {settings.mail_from}")  # type: ignore[attr-defined]
    typer.echo(f"SMS: {settings.sms_adapter or 'off (OHS_SMS_ADAPTER not set)'}")
    typer.echo(f"delivery: at most {settings.delivery_max_attempts} attempt(s) per channel")
    for item in templates.templates:
        typer.echo(f"templates: {item.ref()} from {item.effective_from} ({item.origin})")


@app.command()
def deliver(
    database_url: Annotated[str | None, typer.Option("--database-url", help="default: DATABASE_URL, or the service's SQLite file")] = None,
) -> None:
    """Deliver every pending delivery that is due now (the running service does it every few seconds)."""
    from shared.migrations import upgrade

    settings = _settings()
    try:
        channels = build_channels(settings)
    except ChannelConfigError as error:
        typer.echo(f"deliver failed: {error}", err=True)
        raise typer.Exit(2) from error
    engine = make_engine(database_url or settings.resolved_database_url())
    try:
        upgrade("notification", engine)
        report = deliver_due(lambda: NotificationUnitOfWork(engine), channels, utc_now(), settings.delivery_max_attempts)
    except Exception as error:  # noqa: BLE001 - an operator's command: say what failed
        typer.echo(f"deliver failed: {error}", err=True)
        raise typer.Exit(2) from error
    finally:
        engine.dispose()
    for line in report.lines():
        typer.echo(line)
    typer.echo(f"{len(report.sent)} sent, {len(report.retrying)} to retry, {len(report.failed)} failed")


@app.command("send-test")
def send_test(to: Annotated[str, typer.Option("--to", help="the address to send the test e-mail to")]) -> None:
    """Send one test e-mail through OHS_SMTP_URL now, and say what the server answered."""
    settings = _settings()
    try:
        channel = EmailChannel.from_settings(settings)
        channel.send(OutgoingNotification(str(uuid.uuid4()), "职业卫生分类监督执法平台 测试邮件 · test e-mail",
                                          "这是一封测试邮件。\n\nThis is a test e-mail from the notification service.", ""), to)
    except (ChannelConfigError, DeliveryFailed) as error:
        typer.echo(f"send-test failed: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"sent to {to} through {channel.server!r}")


if __name__ == "__main__":
    app()
