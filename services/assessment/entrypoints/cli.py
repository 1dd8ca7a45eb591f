"""The assessment's command line (the typer ``app``), which a county's staff use to load reports in bulk.
``ohs`` runs it today; mounted in the root command it becomes ``ohs assessment bulk …``.

    ohs bulk employers FILE.xlsx|FILE.xls --api http://127.0.0.1:8001 --token TOKEN [--errors errors.xlsx] [--dry-run] [--batch-size 500] [--concurrency 4]
    ohs bulk reports   FILE.jsonl|FOLDER  --api http://127.0.0.1:8001 --token TOKEN [--errors errors.xlsx] [--dry-run] [--batch-size 500] [--concurrency 4]
    ohs bulk template  OUT.xlsx           an empty 附件6 with its header row, one example row and a 说明 sheet

(``python -m services.assessment.cli …`` works the same.) The layout of 附件6 is described in
``services.assessment.adapters.spreadsheets``. Valid rows go to ``POST /reports:batch`` in batches of
``--batch-size`` (``--concurrency`` batches in flight); a batch that fails on the way (a connection
error, a 5xx) is sent again (each row's submission id makes that safe), a batch the service finds too
large (413) is split in two, and a service without the batch endpoint gets one ``POST /reports`` per
row. Every input row ends up submitted (new), already
submitted (the service holds the identical report from an earlier run) or in the errors file (.xlsx, or .csv
when the name ends in .csv; columns 行号, 统一社会信用代码, 字段, 错误说明; default: next to the
input, ``<name>.errors.xlsx``). The bearer token (``--token``, default ``$OHS_TOKEN``) is a county,
city or province staff token covering the employers' regions, or an employer's own token. Exit code
0 when every row went through, 1 when some rows have errors, 2 on a usage error (file not found,
unreadable layout, API unreachable, no token, the token refused (401) or not allowed to submit a
row (403): the run stops there; rows already submitted stay submitted and a rerun skips them).

Every text for people — help, messages, the summary, the errors file's own messages — is a ``cli.bulk.*``
code in Chinese, or English under ``LANG=en_*`` (services/cli.py); the requests ask the service for the
same language (``Accept-Language``), so the service's field messages in the errors file match.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import httpx
import typer
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from services.assessment.adapters import report_files, spreadsheets
from services.assessment.adapters.report_files import LayoutError, ParsedRow, RowProblem
from services.assessment.adapters.spreadsheets import write_errors, write_template
from services.assessment.service_layer.handlers import BATCH_LIMIT
from shared import i18n
from shared.i18n import cli_text as _, cli_said as said


app = typer.Typer(help=_("cli.assessment.help"), no_args_is_help=True, add_completion=False)
bulk_app = typer.Typer(help=_("cli.bulk.help"), no_args_is_help=True)
app.add_typer(bulk_app, name="bulk")

RETRIES = 3  # after the first attempt, on connection errors and 5xx
BACKOFF_S = 0.5  # doubled at each retry
BATCH_PATH = "/reports:batch"
DEFAULT_BATCH_SIZE = 500
DEFAULT_CONCURRENCY = 4

Api = Annotated[str, typer.Option("--api", envvar="OHS_ASSESSMENT_API", help=_("cli.bulk.option.api"))]
Token = Annotated[str | None, typer.Option("--token", envvar="OHS_TOKEN", show_envvar=True, help=_("cli.bulk.option.token"))]
ErrorsFile = Annotated[Path | None, typer.Option("--errors", help=_("cli.bulk.option.errors"), dir_okay=False)]
DryRun = Annotated[bool, typer.Option("--dry-run", help=_("cli.bulk.option.dry_run"))]
Concurrency = Annotated[int, typer.Option("--concurrency", min=1, max=64, help=_("cli.bulk.option.concurrency"))]
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, max=BATCH_LIMIT, help=_("cli.bulk.option.batch_size", limit=BATCH_LIMIT))]


class AccessRefused(Exception):
    """The service refused the token (401) or this token's right to submit a row (403): a usage error."""


@dataclass
class Outcome:
    status: Literal["new", "already", "rejected"]
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class Summary:
    read: int = 0
    valid: int = 0
    new: int = 0
    already: int = 0
    rejected: int = 0


# --------------------------------------------------------------------------- commands


EMPLOYERS_EPILOG = _(
    "cli.bulk.employers.epilog",
    columns=[f"{c.title}{'*' if c.required else ''}" for c in spreadsheets.COLUMNS],
    hazard_column="危害因素",
    hazard_format="因素名称|接触人数|符合/不符合|检测日期[|严重/一般]",
)


@bulk_app.command("employers", help=_("cli.bulk.employers.help"), epilog=EMPLOYERS_EPILOG)
def employers(
    file: Annotated[Path, typer.Argument(help=_("cli.bulk.employers.file"))],
    api: Api = "http://127.0.0.1:8001",
    errors: ErrorsFile = None,
    dry_run: DryRun = False,
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
    token: Token = None,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
) -> None:
    """Load the county's employer list (附件6): one report per row."""
    run(file, spreadsheets.parse_employer_sheet, spreadsheets.sheet_problem, api, errors, dry_run, concurrency, token, batch_size)


@bulk_app.command("reports", help=_("cli.bulk.reports.help"))
def reports(
    source: Annotated[Path, typer.Argument(help=_("cli.bulk.reports.source"))],
    api: Api = "http://127.0.0.1:8001",
    errors: ErrorsFile = None,
    dry_run: DryRun = False,
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
    token: Token = None,
    batch_size: BatchSize = DEFAULT_BATCH_SIZE,
) -> None:
    """Load reports given as JSON, exactly as POST /reports takes them."""
    run(source, report_files.parse_reports, lambda f, m, _=None: RowProblem(f, m), api, errors, dry_run, concurrency, token, batch_size)


@bulk_app.command("template", help=_("cli.bulk.template.help", example="示例", notes_sheet="说明"))
def template(
    out: Annotated[Path, typer.Argument(help=_("cli.bulk.template.out"), dir_okay=False)],
    force: Annotated[bool, typer.Option("--force", help=_("cli.bulk.template.force"))] = False,
) -> None:
    """Write an empty 附件6: the header row, one example row (序号 示例, never imported) and a 说明 sheet."""
    console = Console()
    if out.suffix.lower() != ".xlsx":
        fail(console, _("cli.bulk.template.not_xlsx", path=str(out)))
    if out.exists() and not force:
        fail(console, _("cli.bulk.template.exists", path=str(out)))
    write_template(out)
    console.print(escape(_("cli.bulk.template.written", path=str(out))), soft_wrap=True)


# --------------------------------------------------------------------------- the run


Parse = Callable[[Path], list[ParsedRow]]
ToProblem = Callable[..., RowProblem]


def run(
    path: Path, parse: Parse, to_problem: ToProblem, api: str, errors: Path | None, dry_run: bool, concurrency: int,
    token: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
) -> None:
    console = Console()
    if not path.exists():
        fail(console, _("cli.bulk.no_such_path", path=str(path)))
    token = (token or "").strip()
    if not token and not dry_run:
        fail(console, _("cli.bulk.no_token"))
    try:
        rows = parse(path)
    except LayoutError as error:
        fail(console, said(error))
    report_files.mark_duplicates(rows)
    valid = [r for r in rows if r.ok]
    outcomes: dict[int, Outcome] = {}
    if valid and not dry_run:
        api = api.rstrip("/")
        preflight(console, api, token)
        try:
            submitted = asyncio.run(submit_all(valid, api, concurrency, to_problem, console, token, batch_size))
        except AccessRefused as error:
            fail(console, _("cli.bulk.stopped", reason=str(error)))
        outcomes = {id(row): outcome for row, outcome in zip(valid, submitted)}

    summary = Summary(read=len(rows), valid=len(valid))
    error_lines: list[tuple[str, str, str, str]] = []
    for row in rows:
        outcome = outcomes.get(id(row))
        problems = row.problems or (outcome.problems if outcome else [])
        if outcome and outcome.status == "new":
            summary.new += 1
        elif outcome and outcome.status == "already":
            summary.already += 1
        if problems:
            summary.rejected += 1
            error_lines += [(row.label, row.credit_code or "", p.column, p.message) for p in problems]
    errors_path = errors or path.with_name(path.name + ".errors.xlsx" if path.is_dir() else path.stem + ".errors.xlsx")
    write_errors(errors_path, error_lines)
    print_summary(console, summary, errors_path, dry_run)
    raise typer.Exit(1 if summary.rejected else 0)


def fail(console: Console, message: str) -> NoReturn:
    console.print(f"[bold red]{escape(_('cli.error_label'))}[/]{escape(message)}", soft_wrap=True)  # the label ends in its own space
    raise typer.Exit(2)


def preflight(console: Console, api: str, token: str = "") -> None:
    try:
        response = httpx.get(f"{api}/healthz", headers=language(), timeout=5.0)
    except httpx.TransportError as error:
        fail(console, _("cli.bulk.unreachable", api=api, error=f"{type(error).__name__}: {error}"))
    if response.status_code != 200:
        warning = _("cli.bulk.unhealthy", api=api, status=response.status_code, body=response.text[:200])
        console.print(f"[yellow]{escape(_('cli.warning_label'))}[/]{escape(warning)}", soft_wrap=True)
    # A bad or expired token shows before any row is sent: reading a submission that does not
    # exist answers 404 to a valid token and 401 to any other.
    try:
        probe = httpx.get(f"{api}/reports/00000000-0000-0000-0000-000000000000", headers={**bearer(token), **language()}, timeout=5.0)
    except httpx.TransportError:
        return  # the submissions will report it row by row
    if probe.status_code == 401:
        fail(console, _("cli.bulk.token_refused", detail=detail(probe)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def language() -> dict[str, str]:
    """Ask the service for its messages (the row errors) in the command line's language."""
    return {"Accept-Language": "en" if i18n.cli_locale() == i18n.EN else "zh-CN"}


def where(first: ParsedRow, last: ParsedRow | None = None) -> str:
    """A row (or a run of rows) as the reader finds it: spreadsheet row or JSON line numbers, or file names."""
    if last is None or last is first:
        return _("cli.bulk.where.file", file=first.label) if first.source else _("cli.bulk.where.row", row=first.label)
    if first.source:
        return _("cli.bulk.where.files", first=first.label, last=last.label)
    return _("cli.bulk.where.rows", first=first.label, last=last.label)


def submission_problem(message: str) -> RowProblem:
    """A problem of the submission itself (not of one field), for the errors file."""
    return RowProblem(_("cli.bulk.column.submission"), message)


def detail(response: httpx.Response) -> str:
    try:
        content = response.json()
    except ValueError:
        return response.text[:200]
    return str(content.get("detail", content)) if isinstance(content, dict) else str(content)


async def submit_all(
    rows: list[ParsedRow], api: str, concurrency: int, to_problem: ToProblem, console: Console, token: str = "",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[Outcome]:
    """POST the rows in batches of ``batch_size``, ``concurrency`` batches at a time, with a progress bar;
    the outcomes in the rows' order."""
    started = datetime.now(timezone.utc)
    outcomes: list[Outcome | None] = [None] * len(rows)
    queue: asyncio.Queue[range] = asyncio.Queue()
    for start in range(0, len(rows), batch_size):
        queue.put_nowait(range(start, min(start + batch_size, len(rows))))
    timeout = httpx.Timeout(120.0, connect=5.0)  # a batch of thousands is decided and written in one request
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    columns = (TextColumn(escape(_("cli.bulk.submitting"))), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("submit", total=len(rows))
        async with httpx.AsyncClient(base_url=api, timeout=timeout, limits=limits, headers={**bearer(token), **language()}) as client:

            async def worker() -> None:
                while not queue.empty():
                    indexes = queue.get_nowait()
                    answers = await submit_batch(client, [rows[i] for i in indexes], started, to_problem)
                    for index, outcome in zip(indexes, answers):
                        outcomes[index] = outcome
                    progress.advance(task, len(indexes))

            try:
                async with asyncio.TaskGroup() as group:  # the first AccessRefused cancels the other workers
                    for _worker in range(min(concurrency, queue.qsize())):
                        group.create_task(worker())
            except* AccessRefused as refused:
                raise refused.exceptions[0] from None
    return [o or Outcome("rejected", [submission_problem(_("cli.bulk.problem.not_submitted"))]) for o in outcomes]


async def submit_batch(client: httpx.AsyncClient, rows: list[ParsedRow], started: datetime, to_problem: ToProblem) -> list[Outcome]:
    """POST /reports:batch with ``rows``: each row's outcome, as :func:`submit` would have it. A connection error
    or a 5xx sends the batch again (each row's submission id makes that safe), :data:`RETRIES` times at most; a
    batch too large for the service (413) is sent in two halves; a service without the batch endpoint gets
    one request per row."""
    bodies = [row.report.model_dump(mode="json") for row in rows if row.report is not None]
    assert len(bodies) == len(rows)
    failure = ""
    for attempt in range(RETRIES + 1):
        if attempt:
            await asyncio.sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            response = await client.post(BATCH_PATH, json={"reports": bodies})
        except httpx.TransportError as error:
            failure = f"{type(error).__name__}: {error}".rstrip(": ")
            continue
        if response.status_code in (401, 403):
            who = _("cli.bulk.who.token") if response.status_code == 401 else _("cli.bulk.who.rows")
            raise AccessRefused(_("cli.bulk.refused", where=where(rows[0], rows[-1]), who=who, status=response.status_code, detail=detail(response)))
        if response.status_code in (404, 405):  # a service from before POST /reports:batch
            return [await submit(client, row, started, to_problem) for row in rows]
        if response.status_code == 413 and len(rows) > 1:
            half = len(rows) // 2
            return [*await submit_batch(client, rows[:half], started, to_problem), *await submit_batch(client, rows[half:], started, to_problem)]
        if response.status_code == 200:
            try:
                return batch_outcomes(response.json(), rows, bodies, to_problem)
            except (ValueError, TypeError, KeyError) as error:
                failure = _("cli.bulk.problem.bad_answer", error=str(error))
                continue
        if response.status_code < 500:
            problem = submission_problem(f"HTTP {response.status_code}: {detail(response)}")
            return [Outcome("rejected", [problem]) for _row in rows]
        failure = f"HTTP {response.status_code}: {response.text[:200]}"
    return [Outcome("rejected", [submission_problem(_("cli.bulk.problem.failed", retries=RETRIES, failure=failure))]) for _row in rows]


def batch_outcomes(content: Any, rows: list[ParsedRow], bodies: list[dict[str, Any]], to_problem: ToProblem) -> list[Outcome]:
    """Each row's outcome from POST /reports:batch's per-item results (``index`` is the row's place in the batch)."""
    results = {int(item["index"]): item for item in content["results"]}
    if sorted(results) != list(range(len(rows))):
        raise ValueError(_("cli.bulk.problem.result_count", results=len(results), reports=len(rows)))
    outcomes = []
    for index, (row, body) in enumerate(zip(rows, bodies)):
        item = results[index]
        status, why = item.get("status"), str(item.get("detail") or "")
        if status == "accepted":
            outcomes.append(Outcome("new"))
        elif status == "duplicate":
            outcomes.append(Outcome("already"))
        elif status == "invalid":
            outcomes.append(invalid_outcome(item.get("errors"), why, body, to_problem))
        elif status == "refused":
            raise AccessRefused(_("cli.bulk.refused_row", where=where(row), credit_code=row.credit_code or "?",
                                  who=_("cli.bulk.who.row"), status=403, detail=why))
        elif status == "conflict":
            outcomes.append(conflict_outcome(why))
        elif status == "not_found":
            outcomes.append(Outcome("rejected", [submission_problem(f"HTTP 404: {why}")]))
        else:
            outcomes.append(Outcome("rejected", [submission_problem(f"{status}: {why}")]))
    return outcomes


def invalid_outcome(errors: Any, why: str, body: dict[str, Any], to_problem: ToProblem) -> Outcome:
    """A report the service found invalid (422, or ``invalid`` in a batch): one problem per field."""
    problems = [to_problem(str(e.get("field", "")), str(e.get("message", "")), body.get("hazards")) for e in errors or [] if isinstance(e, dict)]
    return Outcome("rejected", problems or [RowProblem(_("cli.bulk.column.row"), why)])


def conflict_outcome(why: str) -> Outcome:
    """The submission id holds another report (409, or ``conflict`` in a batch)."""
    return Outcome("rejected", [RowProblem("submission_id", _("cli.bulk.problem.conflict", detail=why))])


async def submit(client: httpx.AsyncClient, row: ParsedRow, started: datetime, to_problem: ToProblem) -> Outcome:
    """POST /reports with one row (a service without the batch endpoint)."""
    assert row.report is not None
    body = row.report.model_dump(mode="json")
    failure = ""
    for attempt in range(RETRIES + 1):
        if attempt:
            await asyncio.sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            response = await client.post("/reports", json=body)
        except httpx.TransportError as error:
            failure = f"{type(error).__name__}: {error}".rstrip(": ")
            continue
        if response.status_code in (401, 403):
            who = _("cli.bulk.who.token") if response.status_code == 401 else _("cli.bulk.who.row")
            raise AccessRefused(_("cli.bulk.refused_row", where=where(row), credit_code=row.credit_code or "?", who=who,
                                  status=response.status_code, detail=detail(response)))
        if response.status_code < 500:
            return answer(response, started, body, to_problem)
        failure = f"HTTP {response.status_code}: {response.text[:200]}"
    return Outcome("rejected", [submission_problem(_("cli.bulk.problem.failed", retries=RETRIES, failure=failure))])


def answer(response: httpx.Response, started: datetime, body: dict[str, Any], to_problem: ToProblem) -> Outcome:
    try:
        content = response.json()
    except ValueError:
        content = {"detail": response.text[:200]}
    if response.status_code == 202:
        return Outcome("new" if is_new(content, started) else "already")
    if response.status_code == 422 and isinstance(content.get("errors"), list):
        return invalid_outcome(content["errors"], str(content.get("detail")), body, to_problem)
    if response.status_code == 409:
        return conflict_outcome(str(content.get("detail")))
    return Outcome("rejected", [submission_problem(f"HTTP {response.status_code}: {content.get('detail', content)}")])


def is_new(content: dict[str, Any], started: datetime) -> bool:
    """The service answers 202 to a first submission and to an identical repeat. A service that says so
    (``duplicate``) is believed; otherwise a repeat is one received before this run started."""
    if isinstance(content.get("duplicate"), bool):
        return not content["duplicate"]
    if content.get("status") != "accepted":
        return False  # already classified or rejected: received earlier
    try:
        received = datetime.fromisoformat(str(content.get("received_at")))
    except ValueError:
        return True
    if received.tzinfo is None:
        received = received.replace(tzinfo=timezone.utc)  # the service keeps UTC
    return received >= started


# --------------------------------------------------------------------------- output


def print_summary(console: Console, summary: Summary, errors_path: Path, dry_run: bool) -> None:
    title = _("cli.bulk.summary.title_dry_run") if dry_run else _("cli.bulk.summary.title")
    table = Table(title=escape(title), min_width=cell_len(title) + 4)  # the title on one line, in either language
    table.add_column(escape(_("cli.bulk.summary.item")))
    table.add_column(escape(_("cli.bulk.summary.rows")), justify="right")
    table.add_row(escape(_("cli.bulk.summary.read")), str(summary.read))
    table.add_row(escape(_("cli.bulk.summary.valid")), str(summary.valid))
    table.add_row(escape(_("cli.bulk.summary.new")), str(summary.new))
    table.add_row(escape(_("cli.bulk.summary.already")), str(summary.already))
    table.add_row(escape(_("cli.bulk.summary.rejected")), str(summary.rejected))
    console.print(table)
    console.print(escape(_("cli.bulk.summary.errors_file", path=str(errors_path))), soft_wrap=True)
