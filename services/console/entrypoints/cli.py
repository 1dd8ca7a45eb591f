"""``ohs console`` — accounts from the command line, for the operator on the console's host.

    ohs console create-account --username U --name N --role province --scope 140000 [--admin] [--replace]
    ohs console disable --username U

``create-account`` makes the first administrator of a new installation (and any account an operator must
make by hand); the password is read from the environment variable OHS_NEW_PASSWORD, else asked for twice
without echo. It writes to the console's database (DATABASE_URL, else the SQLite file under OHS_DATA_DIR),
brought to the newest schema first. An employer's account made here is not checked against the archive:
the web form (an administrator's) is the door for employers. ``disable`` ends the account's sessions and,
through the console's outbox (published by the running console), its tokens at every service.
Exit code 0, or 2 when the account is refused (the reason is printed)."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer

from services.console.domain.accounts import AccountRefused
from services.console.service_layer import handlers
from services.console.service_layer.unit_of_work import ConsoleUnitOfWork
from shared import i18n
from shared.contracts import utc_now
from shared.i18n import cli_text as _
from shared.unit_of_work import sql_unit_of_work_factory

app = typer.Typer(help=_("cli.console.help"), no_args_is_help=True)


def _unit_of_work():  # noqa: ANN202
    from shared.db import make_engine
    from shared.migrations import upgrade
    from shared.settings import settings_for

    engine = make_engine(settings_for("console").resolved_database_url())
    upgrade("console", engine)
    return sql_unit_of_work_factory(engine, lambda: None, ConsoleUnitOfWork)


def _said(refused: AccountRefused) -> str:
    return i18n.text(refused.message.code, refused.message.params, i18n.cli_locale())


@app.command("create-account", help=_("cli.console.create.help"))
def create_account(
    username: Annotated[str, typer.Option(help=_("cli.console.username.help"))],
    name: Annotated[str, typer.Option(help=_("cli.console.name.help"))],
    role: Annotated[str, typer.Option(help=_("cli.console.role.help"))],
    scope: Annotated[str, typer.Option(help=_("cli.console.scope.help"))],
    admin: Annotated[bool, typer.Option("--admin", help=_("cli.console.admin.help"))] = False,
    replace: Annotated[bool, typer.Option("--replace", help=_("cli.console.replace.help"))] = False,
) -> None:
    password = os.environ.get("OHS_NEW_PASSWORD")
    if not password:
        password = getpass.getpass(_("cli.console.password_prompt"))
        if getpass.getpass(_("cli.console.password_again")) != password:
            typer.echo(_("cli.console.password_differs"), err=True)
            raise typer.Exit(2)
    employer_region = None
    if role == "employer":  # not checked against the archive here (no token to ask the registry with)
        employer_region = scope[2:8] if len(scope) == 18 else None
    try:
        account = handlers.create_account(_unit_of_work()(), actor=None, actor_label=f"cli:{getpass.getuser()}", username=username,
                                          password=password, display_name=name, role=role, scope=scope, admin=admin, now=utc_now(),
                                          client="cli", employer_region=employer_region, replace_existing=replace)
    except AccountRefused as refused:
        typer.echo(_("cli.console.refused", reason=_said(refused)), err=True)
        raise typer.Exit(2) from refused
    typer.echo(_("cli.console.created", username=account.username, role=account.role, scope=account.scope))


@app.command(help=_("cli.console.disable.help"))
def disable(username: Annotated[str, typer.Option(help=_("cli.console.username.help"))]) -> None:
    try:
        handlers.disable_by_operator(_unit_of_work()(), username, now=utc_now(), operator=f"cli:{getpass.getuser()}")
    except AccountRefused as refused:
        typer.echo(_("cli.console.refused", reason=_said(refused)), err=True)
        raise typer.Exit(2) from refused
    typer.echo(_("cli.console.disabled", username=username.lower()))
