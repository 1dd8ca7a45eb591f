"""The sampling service's command line (``ohs sampling …``).

    ohs sampling verify publication.json
    ohs sampling roster import <file.csv|file.json> [--region 141024] [--database-url URL]
    ohs sampling roster export <file.json|file.csv|-> [--region 141024] [--database-url URL]

``verify`` recomputes a published draw (一公开) from the publication file alone, offline: the file is
what ``GET /plans/{id}/publication`` returns. It prints ``match`` or ``mismatch: <the first
difference>``; exit code 0 on a match, 1 on a mismatch, 2 when the file is unusable (not readable,
not JSON, not a publication, or no draw published yet).

``roster import`` replaces agencies' inspector rosters (inspectors and their declared conflicts)
from a file, as ``PUT /inspectors/{region}`` does; ``roster export`` writes them to a file the import
reads back. File formats: ``services/sampling/adapters/roster_file.py``. Exit code 0, or 2 on a
usage, file or database problem.
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
from shared.identifiers import region_problem

T = TypeVar("T")

app = typer.Typer(help="The sampling service: verify a published draw; import and export inspector rosters.", no_args_is_help=True)
roster_app = typer.Typer(help="Inspector rosters (执法检查人员名录库) in CSV or JSON files.", no_args_is_help=True)
app.add_typer(roster_app, name="roster")

RegionOption = Annotated[str | None, typer.Option("--region", help="the agency's GB/T 2260 code (e.g. 141024)")]
DatabaseOption = Annotated[str | None, typer.Option("--database-url", help="default: DATABASE_URL, or the sampling service's SQLite file")]


def _error(message: str) -> None:
    typer.echo(message, err=True)


# --------------------------------------------------------------------------- verify


@app.command()
def verify(publication: Annotated[Path, typer.Argument(help="the publication JSON file (GET /plans/{id}/publication)")]) -> None:
    """Recompute a published draw: match (exit 0), mismatch (1) or an unusable file (2)."""
    try:
        document = json.loads(publication.read_text(encoding="utf-8"))
        outcome = verify_publication(document)
    except (OSError, ValueError) as exc:  # Unusable and JSONDecodeError are ValueErrors
        kind = "not a usable publication" if isinstance(exc, Unusable) else "cannot read it"
        _error(f"unusable: {publication}: {kind}: {exc}")
        raise typer.Exit(2) from None
    if not outcome["match"]:
        typer.echo(f"mismatch: {outcome['reason']}")
        raise typer.Exit(1)
    plan = document["plan"]
    typer.echo(f"match: plan {plan.get('id')} {plan.get('region_code')} {plan.get('period')}, "
               f"{len(document['draw']['targets'])} targets, pool {document['draw']['pool_hash']}")


# --------------------------------------------------------------------------- rosters


def read_rosters(path: Path, region: str | None) -> dict[str, RosterIn]:
    """Region -> roster from the file, validated; ValueError naming the problem."""
    out = {}
    for code, roster in read_roster_file(path, region).items():
        if problem := region_problem(code):
            raise ValueError(f"region {code!r}: {problem}")
        try:
            out[code] = RosterIn.model_validate(roster)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False))
            raise ValueError(f"roster for {code} in {path} is invalid: {problems}") from exc
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


@roster_app.command("import")
def roster_import(file: Annotated[Path, typer.Argument(help="a CSV or JSON roster file")], region: RegionOption = None,
                  database_url: DatabaseOption = None) -> None:
    """Replace agencies' rosters from a file (a file of several agencies: --region's only, or all of them)."""
    try:
        rosters = read_rosters(file, region)
    except (OSError, ValueError) as exc:
        _error(f"error: {exc}")
        raise typer.Exit(2) from None
    url = _database_url(database_url)
    try:
        with _database(url) as run:
            run(lambda uow: rosters_uc.replace_rosters(uow, rosters))
    except Exception as exc:  # noqa: BLE001 - a CLI reports and exits
        _error(f"error: database {url}: {exc}")
        raise typer.Exit(2) from None
    for code, roster in rosters.items():
        typer.echo(f"{code}: {len(roster.inspectors)} inspectors loaded")


@roster_app.command("export")
def roster_export(file: Annotated[str, typer.Argument(help="the file to write (.json or .csv), or - for standard output (JSON)")],
                  region: RegionOption = None, database_url: DatabaseOption = None) -> None:
    """Write agencies' rosters (--region's, or every agency's) to a file that `roster import` reads back."""
    if region and (problem := region_problem(region)):
        _error(f"error: region {region!r}: {problem}")
        raise typer.Exit(2)
    url = _database_url(database_url)

    def read(uow: SamplingUnitOfWork) -> dict[str, dict[str, Any]]:
        agencies = [region] if region else views.agencies_with_rosters(uow.session)
        return {code: views.roster(uow.session, code) for code in agencies}

    try:
        with _database(url) as run:
            rosters = run(read)
    except Exception as exc:  # noqa: BLE001 - a CLI reports and exits
        _error(f"error: database {url}: {exc}")
        raise typer.Exit(2) from None
    try:
        text = roster_file_text(rosters, csv_format=file.lower().endswith(".csv"))
        if file == "-":
            typer.echo(text, nl=False)
        else:
            Path(file).write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:
        _error(f"error: {exc}")
        raise typer.Exit(2) from None
    if file != "-":
        for code, roster in rosters.items():
            typer.echo(f"{code}: {len(roster['inspectors'])} inspectors written to {file}")


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
