"""``ohs registry`` — the registry's command line.

    ohs registry chain verify --region 141029 [--database-url URL]
    ohs registry chain verify --all [--database-url URL]
    ohs registry sweep exemptions [--today YYYY-MM-DD] [--database-url URL]
    ohs registry sweep reminders [--today YYYY-MM-DD] [--within-days N] [--database-url URL]
    ohs registry sweep rectifications [--today YYYY-MM-DD] [--database-url URL]

``chain verify`` reads the registry database (``DATABASE_URL``, or the registry's default SQLite
file) without changing it. It prints, per county, that the chain holds with the number of entries and
the head hash (keep it: a chain rewritten later from some entry on no longer ends in it), or the first
broken entry by seq and credit code. Exit code 0 when every chain verified holds, 1 when one is
broken, 2 on a usage or database problem.

``sweep``: the daily sweeps — 免检 (start the exemptions due today, expire those whose last day
has passed) and reminders (re-assessments due soon or overdue, first assessments overdue). The
running registry does the same on a timer (hourly, and once at start-up), so these commands are
for cron or for an operator. Both sweeps are idempotent: a second run on the same day changes
nothing and announces nothing. The events go to the registry's outbox in the same transaction; the
running registry publishes them within a second (or at its next start). Prints one line per change
or reminder. Exit code 0, or 2 on a usage or database problem.

(``python -m services.registry.chain`` and ``python -m services.registry.sweep`` — both sweeps at
once — are aliases kept for existing cron entries.)

Help and messages are ``cli.registry.*`` codes: Chinese, or English under ``LANG=en_*`` (services/cli.py).
Cron should read the exit code, not the words.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine, inspect

from services.registry.domain.exemptions import china_today
from services.registry.adapters.rules import load_rectification_rules
from services.registry.service_layer import chain_log, exemptions, rectification, reminders
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared import i18n
from shared.i18n import cli_text as _, cli_said as said
from shared.cli_options import day_given
from shared.db import make_engine
from shared.identifiers import county_region_problem

DEFAULT_WITHIN_DAYS = 90  # the default of OHS_REMINDER_WITHIN_DAYS


app = typer.Typer(help=_("cli.registry.help"), no_args_is_help=True)
chain_app = typer.Typer(help=_("cli.registry.chain.help"), no_args_is_help=True)
sweep_app = typer.Typer(help=_("cli.registry.sweep.help"), no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(sweep_app, name="sweep")

DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help=_("cli.registry.option.database_url"))]
Today = Annotated[date | None, typer.Option("--today", metavar="YYYY-MM-DD", parser=day_given, help=_("cli.option.today"))]
WithinDays = Annotated[int | None, typer.Option("--within-days", help=_("cli.registry.option.within_days", days=DEFAULT_WITHIN_DAYS))]


def _database_url(given: str | None) -> str:
    if given:
        return given
    from shared.settings import settings_for

    return settings_for("registry").resolved_database_url()


# --------------------------------------------------------------------------- chain verify


def verify_chains(database_url: str | None, region: str | None, every: bool) -> int:
    """Verify one region's chain, or every chain; print the outcome; the exit code."""
    url = _database_url(database_url)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        print(_("cli.registry.chain.no_database", url=url), file=sys.stderr)  # and do not create an empty one
        return 2
    engine = make_engine(url)
    try:
        if "registry_change_log" not in inspect(engine).get_table_names():
            print(_("cli.registry.chain.no_log"), file=sys.stderr)
            return 2
        broken = 0
        with RegistryUnitOfWork(engine) as uow:  # read only: never committed
            regions = chain_log.chained_regions(uow.session) if every else [region]
            if every and not regions:
                print(_("cli.registry.chain.none"))
            for code in regions:
                result = chain_log.verify_region(uow.session, code)  # type: ignore[arg-type]
                if result.ok and result.head_hash:
                    print(_("cli.registry.chain.ok", region=code, count=result.checked, head=result.head_hash))
                elif result.ok:
                    print(_("cli.registry.chain.ok_empty", region=code, count=result.checked))
                else:
                    broken += 1
                    print(broken_line(code, result))
        return 1 if broken else 0
    finally:
        engine.dispose()


def broken_line(region: str, result: Any) -> str:
    """The first broken entry of a county's chain: which one, whose, and why (the reason as the check gives it,
    or its message when the check gives a code)."""
    locale = i18n.cli_locale()
    reason = i18n.text_or(getattr(result, "code", None), getattr(result, "params", None) or {}, said(result.reason or ""), locale)
    if result.credit_code:
        return _("cli.registry.chain.broken_entry", region=region, seq=result.first_broken, credit_code=result.credit_code, reason=reason)
    return _("cli.registry.chain.broken", region=region, seq=result.first_broken, reason=reason)


@chain_app.callback()
def _chain() -> None:
    """(``verify`` stays a sub-command even while it is the only one.)"""


@chain_app.command("verify", help=_("cli.registry.chain.verify.help"))
def verify(
    region: Annotated[str | None, typer.Option("--region", help=_("cli.registry.chain.verify.region"))] = None,
    every: Annotated[bool, typer.Option("--all", help=_("cli.registry.chain.verify.all"))] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Verify one county's chain (--region), or every chain (--all)."""
    if (region is None) == (not every):
        typer.echo(_("cli.error", message=_("cli.registry.chain.verify.region_or_all")), err=True)
        raise typer.Exit(2)
    if region and (problem := county_region_problem(region)):
        typer.echo(_("cli.error", message=_("cli.registry.chain.verify.bad_region", region=region, problem=said(problem))), err=True)
        raise typer.Exit(2)
    raise typer.Exit(verify_chains(database_url, region, every))


# --------------------------------------------------------------------------- sweeps


def sweep_exemptions(engine: Engine, today: date | None = None) -> list[str]:
    """One 免检 sweep in its own unit of work; returns what changed."""
    with RegistryUnitOfWork(engine) as uow:
        return exemptions.run_sweep(uow, today or china_today())


def sweep_reminders(engine: Engine, today: date | None = None, within_days: int = DEFAULT_WITHIN_DAYS) -> list[str]:
    """One reminder sweep in its own unit of work; returns the reminders sent."""
    with RegistryUnitOfWork(engine) as uow:
        return reminders.run_sweep(uow, today or china_today(), within_days)


def sweep_rectifications(engine: Engine, today: date | None = None, rules_dir: Path | None = None) -> list[str]:
    """One rectification sweep (reminded, overdue) in its own unit of work; returns the steps taken."""
    with RegistryUnitOfWork(engine) as uow:
        return rectification.run_sweep(uow, today or china_today(), load_rectification_rules(rules_dir))


def run_sweeps(database_url: str | None, today: date | None, within_days: int | None, *, exemption: bool, reminder: bool,
               rectifications: bool = False) -> int:
    """Bring the database to the current schema, run the sweeps asked for, print what they did; the exit code."""
    from shared.migrations import upgrade
    from shared.settings import settings_for

    settings = settings_for("registry")
    days = settings.reminder_within_days if within_days is None else within_days
    if days < 0:
        print(_("cli.registry.sweep.negative_days", days=days), file=sys.stderr)
        return 2
    day = today or china_today()
    engine = make_engine(database_url or settings.resolved_database_url())
    try:
        upgrade("registry", engine)  # the same schema the service would bring it to at start-up
        changed = sweep_exemptions(engine, day) if exemption else []
        reminded = sweep_reminders(engine, day, days) if reminder else []
        rectified = sweep_rectifications(engine, day, settings.rules_dir) if rectifications else []
    except Exception as error:  # noqa: BLE001 - an operator's command: say what failed
        print(_("cli.sweep_failed", error=said(error)), file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for line in [*changed, *reminded, *rectified]:
        print(said(line))
    if exemption:
        print(_("cli.registry.sweep.exemptions_done", count=len(changed), day=day.isoformat()))
    if reminder:
        print(_("cli.registry.sweep.reminders_done", count=len(reminded), day=day.isoformat(), days=days))
    if rectifications:
        print(_("cli.registry.sweep.rectifications_done", count=len(rectified), day=day.isoformat()))
    return 0


@sweep_app.command("exemptions", help=_("cli.registry.sweep.exemptions.help"))
def sweep_exemptions_command(today: Today = None, database_url: DatabaseUrl = None) -> None:
    """Start the 免检 due today and expire those whose valid_until has passed."""
    raise typer.Exit(run_sweeps(database_url, today, None, exemption=True, reminder=False))


@sweep_app.command("reminders", help=_("cli.registry.sweep.reminders.help"))
def sweep_reminders_command(today: Today = None, within_days: WithinDays = None, database_url: DatabaseUrl = None) -> None:
    """Announce the re-assessments due soon or overdue and the first assessments overdue (once each)."""
    raise typer.Exit(run_sweeps(database_url, today, within_days, exemption=False, reminder=True))


@sweep_app.command("rectifications", help=_("cli.registry.sweep.rectifications.help"))
def sweep_rectifications_command(today: Today = None, database_url: DatabaseUrl = None) -> None:
    """Remind of rectification deadlines near (once per item and deadline) and list the items past their deadline as overdue."""
    raise typer.Exit(run_sweeps(database_url, today, None, exemption=False, reminder=False, rectifications=True))


def run(typer_app: typer.Typer, argv: list[str], prog_name: str) -> int:
    """Run ``typer_app`` (``app`` or one of its groups) with ``argv`` as a command would; the exit
    code (for the ``python -m`` aliases)."""
    try:
        typer.main.get_command(typer_app).main(argv, prog_name=prog_name)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return 0


if __name__ == "__main__":
    app()
