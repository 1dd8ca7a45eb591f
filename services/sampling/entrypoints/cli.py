"""The sampling service's command line (``ohs sampling …``).

    ohs sampling verify publication.json
    ohs sampling roster import <file.csv|file.json> [--region 141024] [--database-url URL]
    ohs sampling roster export <file.json|file.csv|-> [--region 141024] [--database-url URL]

``verify`` recomputes a published draw (一公开) from the publication file alone, offline: the file is
what ``GET /plans/{id}/publication`` returns. It prints that the draw matches, or the first
difference; exit code 0 on a match, 1 on a mismatch, 2 when the file is unusable (not readable,
not JSON, not a publication, or no draw published yet).

``roster import`` replaces agencies' inspector rosters (inspectors and their declared conflicts)
from a file, as ``PUT /inspectors/{region}`` does; ``roster export`` writes them to a file the import
reads back. File formats: ``services/sampling/adapters/roster_file.py``. Exit code 0, or 2 on a
usage, file or database problem.

Help and messages are ``cli.sampling.*`` codes: Chinese, or English under ``LANG=en_*`` (services/cli.py).
The exported files keep their columns and keys (the import reads them back).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from services.sampling import views
from services.sampling.adapters.roster_file import read_roster_file, roster_file_text
from services.sampling.domain.publication import Unusable
from services.sampling.domain.publication import verify as verify_publication
from services.sampling.service_layer import roster as rosters_uc
from services.sampling.service_layer.commands import RosterIn
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork
from shared import i18n
from shared.i18n import cli_text as _, cli_said as said
from shared.identifiers import region_problem

T = TypeVar("T")


app = typer.Typer(help=_("cli.sampling.help"), no_args_is_help=True)
roster_app = typer.Typer(help=_("cli.sampling.roster.help"), no_args_is_help=True)
app.add_typer(roster_app, name="roster")

RegionOption = Annotated[str | None, typer.Option("--region", help=_("cli.sampling.option.region"))]
DatabaseOption = Annotated[str | None, typer.Option("--database-url", help=_("cli.sampling.option.database_url"))]


def _error(message: str) -> None:
    typer.echo(message, err=True)


# --------------------------------------------------------------------------- verify


@app.command(help=_("cli.sampling.verify.help"))
def verify(publication: Annotated[Path, typer.Argument(help=_("cli.sampling.verify.publication"))]) -> None:
    """Recompute a published draw: match (exit 0), mismatch (1) or an unusable file (2)."""
    try:
        document = json.loads(publication.read_text(encoding="utf-8"))
        outcome = verify_publication(document)
    except FileNotFoundError:
        _error(_("cli.sampling.verify.no_file", path=str(publication)))
        raise typer.Exit(2) from None
    except (OSError, ValueError) as exc:  # Unusable and JSONDecodeError are ValueErrors
        if isinstance(exc, Unusable):
            _error(_("cli.sampling.verify.not_publication", path=str(publication), error=said(exc)))
        elif isinstance(exc, json.JSONDecodeError):
            _error(_("cli.sampling.verify.not_json", path=str(publication), line=exc.lineno, column=exc.colno))
        else:
            _error(_("cli.sampling.verify.unreadable", path=str(publication), error=said(exc)))
        raise typer.Exit(2) from None
    if not outcome["match"]:
        reason = i18n.text_or(outcome.get("code"), outcome.get("params") or {}, str(outcome.get("reason", "")), i18n.cli_locale())
        typer.echo(_("cli.sampling.verify.mismatch", reason=reason))
        raise typer.Exit(1)
    plan = document["plan"]
    typer.echo(_("cli.sampling.verify.match", plan=str(plan.get("id")), region=str(plan.get("region_code")), period=str(plan.get("period")),
                 targets=len(document["draw"]["targets"]), pool_hash=str(document["draw"]["pool_hash"])))


# --------------------------------------------------------------------------- rosters


def read_rosters(path: Path, region: str | None) -> dict[str, RosterIn]:
    """Region -> roster from the file, validated; ValueError naming the problem."""
    out = {}
    for code, roster in read_roster_file(path, region).items():
        if problem := region_problem(code):
            raise ValueError(_("cli.sampling.roster.bad_region", region=code, problem=said(problem)))
        try:
            out[code] = RosterIn.model_validate(roster)
        except ValidationError as exc:
            locale = i18n.cli_locale()  # an error whose type is a message code says it in the reader's language
            problems = [f"{'.'.join(str(p) for p in e['loc'])}: {i18n.text_or(e['type'], e.get('ctx') or {}, e['msg'], locale)}"
                        for e in exc.errors(include_url=False)]
            raise ValueError(_("cli.sampling.roster.invalid", region=code, path=str(path), problems=problems)) from exc
    return out


def _database_url(database_url: str | None) -> str:
    from shared.settings import settings_for

    return database_url or settings_for("sampling").resolved_database_url()


@contextmanager
def _database(url: str) -> Iterator[Callable[[Callable[[SamplingUnitOfWork], T]], T]]:
    """The sampling database (migrated to the newest revision): run work in a unit of work on it."""
    from shared.db import make_engine
    from shared.migrations import upgrade
    from shared.unit_of_work import sql_unit_of_work_factory

    engine = make_engine(url)
    factory = sql_unit_of_work_factory(engine, None, SamplingUnitOfWork)

    def run(work: Callable[[SamplingUnitOfWork], T]) -> T:
        with factory() as uow:
            return work(uow)

    try:
        upgrade("sampling", engine)
        yield run
    finally:
        engine.dispose()


@roster_app.command("import", help=_("cli.sampling.roster.import.help"))
def roster_import(file: Annotated[Path, typer.Argument(help=_("cli.sampling.roster.import.file"))], region: RegionOption = None,
                  database_url: DatabaseOption = None) -> None:
    """Replace agencies' rosters from a file (a file of several agencies: --region's only, or all of them)."""
    try:
        rosters = read_rosters(file, region)
    except FileNotFoundError:
        _error(_("cli.error", message=_("cli.sampling.roster.no_file", path=str(file))))
        raise typer.Exit(2) from None
    except (OSError, ValueError) as exc:
        _error(_("cli.error", message=said(exc)))
        raise typer.Exit(2) from None
    url = _database_url(database_url)
    try:
        with _database(url) as run:
            run(lambda uow: rosters_uc.replace_rosters(uow, rosters))
    except Exception as exc:  # noqa: BLE001 - a CLI reports and exits
        _error(_("cli.sampling.database_error", url=url, error=str(exc)))
        raise typer.Exit(2) from None
    for code, roster in rosters.items():
        typer.echo(_("cli.sampling.roster.loaded", region=code, count=len(roster.inspectors)))


@roster_app.command("export", help=_("cli.sampling.roster.export.help"))
def roster_export(file: Annotated[str, typer.Argument(help=_("cli.sampling.roster.export.file"))],
                  region: RegionOption = None, database_url: DatabaseOption = None) -> None:
    """Write agencies' rosters (--region's, or every agency's) to a file that `roster import` reads back."""
    if region and (problem := region_problem(region)):
        _error(_("cli.error", message=_("cli.sampling.roster.bad_region", region=region, problem=said(problem))))
        raise typer.Exit(2)
    url = _database_url(database_url)

    def read(uow: SamplingUnitOfWork) -> dict[str, dict[str, Any]]:
        agencies = [region] if region else views.agencies_with_rosters(uow.session)
        return {code: views.roster(uow.session, code) for code in agencies}

    try:
        with _database(url) as run:
            rosters = run(read)
    except Exception as exc:  # noqa: BLE001 - a CLI reports and exits
        _error(_("cli.sampling.database_error", url=url, error=str(exc)))
        raise typer.Exit(2) from None
    try:
        text = roster_file_text(rosters, csv_format=file.lower().endswith(".csv"))
        if file == "-":
            typer.echo(text, nl=False)
        else:
            Path(file).write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:
        _error(_("cli.error", message=said(exc)))
        raise typer.Exit(2) from None
    if file != "-":
        for code, roster in rosters.items():
            typer.echo(_("cli.sampling.roster.written", region=code, count=len(roster["inspectors"]), file=file))


# --------------------------------------------------------------------------- for the old entry points


def run(args: list[str], prog_name: str = "ohs sampling") -> int:
    """Run the command line with ``args`` and return its exit code (the ``python -m`` aliases use it)."""
    try:
        app(args=args, prog_name=prog_name)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    return 0


if __name__ == "__main__":
    app()
