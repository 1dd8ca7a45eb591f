"""``ohs ops`` — the operator's command line for the running platform (docs/operations.md).

    ohs ops status [--json]                                   topics, dead letters, consumer groups and their lag
    ohs ops dlq list [--topic T] [--all] [--json]             dead letters (unhandled ones unless --all)
    ohs ops dlq inspect DLQ P O [--json]                      one letter: headers and body
    ohs ops dlq replay DLQ P O --by NAME [--payload FILE]     put it back on its original topic, mark it replayed
    ohs ops dlq discard DLQ P O --by NAME --reason TEXT       mark it discarded
    ohs ops rebuild SERVICE --into DATABASE_URL [--switch]    rebuild a service's read state from its input topics
    ohs ops rules --region 141029 [--on DAY] [--json]         rule-data versions in force, per service
    ohs ops outbox list|requeue --service S [--id N | --all]  rows the broker refused for good, put back in the queue
    ohs ops groups rewind SERVICE --to TIME                  move a stopped service's consumer groups back to TIME

Kafka as the settings say (KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*: on a secured cluster
run it as ``admin``), consumer groups under OHS_CONSUMER_GROUP_PREFIX. The dead-letter bookkeeping is
:mod:`shared.dead_letters`. Exit code 0; 1 when a letter is missing or already handled, a rebuild is refused or
does not catch up; 2 on a connection or database problem. Help and messages are ``cli.ops.*`` codes.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shared import dead_letters, topics
from shared.cli_options import day_given
from shared.dates import CHINA
from shared.i18n import cli_said as said, cli_text as _

if TYPE_CHECKING:
    from shared.settings import Settings

app = typer.Typer(help=_("cli.ops.help"), no_args_is_help=True)
dlq_app = typer.Typer(help=_("cli.ops.dlq.help"), no_args_is_help=True)
outbox_app = typer.Typer(help=_("cli.ops.outbox.help"), no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.add_typer(outbox_app, name="outbox")

SERVICES = ("assessment", "registry", "sampling", "penalty", "notification", "console", "monitoring")
# what a service holds that is in no topic it consumes (it came in over its own HTTP API, or its own jobs made it):
# a rebuild cannot bring it back. Services whose state is mostly their own are refused.
NOT_REBUILT = {
    "assessment": "cli.ops.rebuild.lost.assessment",
    "registry": "cli.ops.rebuild.lost.registry",
    "sampling": "cli.ops.rebuild.lost.sampling",
    "penalty": "cli.ops.rebuild.lost.penalty",
}
REFUSED = {
    "console": "cli.ops.rebuild.refused.console",
    "notification": "cli.ops.rebuild.refused.notification",
    "monitoring": "cli.ops.rebuild.refused.monitoring",
}

Json = Annotated[bool, typer.Option("--json", help=_("cli.ops.option.json"))]


def ops_settings(service: str | None = None, **overrides: Any) -> Settings:
    from shared.settings import Settings, settings_for

    return settings_for(service, **overrides) if service else Settings(**overrides)


def _fail(code: str, exit_code: int = 1, **params: Any) -> typer.Exit:
    typer.echo(_(code, **params), err=True)
    return typer.Exit(exit_code)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# ---------------------------------------------------------------------------------------------- status

def _admin(settings: Settings) -> Any:
    from shared.kafka_admin import admin_client

    return admin_client(settings.kafka_bootstrap_servers, settings, timeout_s=15, client_id="ohs-ops")


def group_lag(committed: dict[Any, Any], end: dict[Any, int], begin: dict[Any, int]) -> dict[str, int]:
    """Per topic: the records between a group's committed offset and the end, summed over the partitions
    (a partition without a committed offset counts from its earliest retained record)."""
    lag: dict[str, int] = {}
    for tp, last in end.items():
        done = committed.get(tp)
        offset = getattr(done, "offset", done)
        start = offset if offset is not None and offset >= 0 else begin.get(tp, 0)
        lag[tp.topic] = lag.get(tp.topic, 0) + max(last - start, 0)
    return lag


def cluster_status(settings: Settings) -> dict[str, Any]:
    """Every topic of the platform (partitions, retained and end offsets, dead letters) and every consumer
    group of the prefix (state, members, lag per topic)."""
    from kafka import TopicPartition

    names = list(topics.all_topic_specs())
    dlqs = [t.dlq for t in topics.TOPICS]
    unhandled = dead_letters.unhandled_dead_letters(settings, dlqs)
    with dead_letters._consumer(settings) as consumer:  # noqa: SLF001 - the same group-less connection
        parts = {name: sorted(consumer.partitions_for_topic(name) or ()) for name in names}
        tps = [TopicPartition(name, p) for name, ps in parts.items() for p in ps]
        begin = consumer.beginning_offsets(tps) if tps else {}
        end = consumer.end_offsets(tps) if tps else {}
    sums: dict[str, tuple[int, int]] = {}
    for tp in tps:
        retained, last = sums.get(tp.topic, (0, 0))
        sums[tp.topic] = (retained + end[tp] - begin[tp], last + end[tp])
    topic_rows = []
    for topic in topics.TOPICS:
        retained, last = sums.get(topic.name, (0, 0))
        depth = sums.get(topic.dlq, (0, 0))[0]
        topic_rows.append({"topic": topic.name, "exists": bool(parts.get(topic.name)), "partitions": len(parts.get(topic.name, [])),
                           "retained": retained, "end": last, "dlq": topic.dlq, "dlq_depth": depth, "dlq_unhandled": unhandled.get(topic.dlq, 0)})
    retained, last = sums.get(topics.DEAD_LETTER_ACTIONS, (0, 0))
    topic_rows.append({"topic": topics.DEAD_LETTER_ACTIONS, "exists": bool(parts.get(topics.DEAD_LETTER_ACTIONS)),
                       "partitions": len(parts.get(topics.DEAD_LETTER_ACTIONS, [])), "retained": retained, "end": last,
                       "dlq": None, "dlq_depth": 0, "dlq_unhandled": 0})
    prefix = settings.consumer_group_prefix
    admin = _admin(settings)
    try:
        ids = sorted(g["group_id"] for g in admin.list_groups() if g["group_id"].startswith(prefix + "."))
        groups = _describe_groups(admin, ids, begin, end)
    finally:
        admin.close()
    return {"prefix": prefix, "topics": topic_rows, "groups": groups}


def _describe_groups(admin: Any, ids: list[str], begin: dict[Any, int], end: dict[Any, int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    described = admin.describe_groups(ids)
    committed = admin.list_group_offsets({g: None for g in ids})
    out = []
    for group in ids:
        info = described.get(group, {})
        offsets = committed.get(group, {})
        mine = {tp: end[tp] for tp in offsets if tp in end}
        out.append({"group": group, "state": info.get("group_state", "?"), "members": len(info.get("members") or []),
                    "lag": group_lag(offsets, mine, begin)})
    return out


@app.command(help=_("cli.ops.status.help"))
def status(as_json: Json = False) -> None:
    settings = ops_settings()
    try:
        found = cluster_status(settings)
    except Exception as error:  # noqa: BLE001 - an operator's command: say what failed
        raise _fail("cli.ops.failed", 2, error=said(error)) from error
    if as_json:
        _echo_json(found)
        return
    typer.echo(_("cli.ops.status.topics"))
    for row in found["topics"]:
        typer.echo(_("cli.ops.status.topic_line", **{k: row[k] for k in ("topic", "partitions", "retained", "end", "dlq_depth")},
                     unhandled=row["dlq_unhandled"]))
    typer.echo(_("cli.ops.status.groups", prefix=found["prefix"]))
    if not found["groups"]:
        typer.echo(_("cli.ops.status.no_groups", prefix=found["prefix"]))
    for group in found["groups"]:
        typer.echo(_("cli.ops.status.group_line", group=group["group"], state=group["state"], members=group["members"]))
        for topic, lag in sorted(group["lag"].items()):
            typer.echo(_("cli.ops.status.lag_line", topic=topic, lag=lag))


# ---------------------------------------------------------------------------------------------- dead letters

DlqTopic = Annotated[str, typer.Argument(metavar="DLQ", help=_("cli.ops.dlq.arg.topic"))]
Partition = Annotated[int, typer.Argument(metavar="P", min=0, help=_("cli.ops.dlq.arg.partition"))]
Offset = Annotated[int, typer.Argument(metavar="O", min=0, help=_("cli.ops.dlq.arg.offset"))]
By = Annotated[str, typer.Option("--by", help=_("cli.ops.dlq.option.by"))]


def _dlq_call(work: Any) -> Any:
    try:
        return work()
    except dead_letters.DeadLetterNotFound as error:
        raise _fail("cli.ops.dlq.not_found", 1, error=str(error)) from error
    except dead_letters.DeadLetterError as error:
        raise _fail("cli.ops.dlq.refused", 1, error=str(error)) from error
    except Exception as error:  # noqa: BLE001 - the broker: say what failed
        raise _fail("cli.ops.failed", 2, error=said(error)) from error


@dlq_app.command("list", help=_("cli.ops.dlq.list.help"))
def dlq_list(
    topic: Annotated[str | None, typer.Option("--topic", help=_("cli.ops.dlq.option.topic"))] = None,
    include_handled: Annotated[bool, typer.Option("--all", help=_("cli.ops.dlq.option.all"))] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help=_("cli.ops.dlq.option.limit"))] = 100,
    as_json: Json = False,
) -> None:
    dlq = topics.dead_letter_topic(topic) if topic and not topic.endswith(".dlq") else topic
    letters = _dlq_call(lambda: dead_letters.list_dead_letters(ops_settings(), dlq, include_handled, limit))
    if as_json:
        _echo_json([letter.as_dict() for letter in letters])
        return
    if not letters:
        typer.echo(_("cli.ops.dlq.list.none"))
    for letter in letters:
        handled = _("cli.ops.dlq.list.handled", action=letter.action.action, by=letter.action.by, at=letter.action.at) if letter.action else ""
        typer.echo(_("cli.ops.dlq.list.line", ref=letter.ref, failed_at=letter.failed_at.isoformat() if letter.failed_at else "?",
                     group=letter.group or "?", error_type=letter.error_type or "?", reason=letter.reason.splitlines()[0][:160] if letter.reason else "",
                     handled=handled))


def pretty_body(body: bytes) -> str:
    """The body as an operator reads it: indented JSON when it is JSON, else the text (undecodable bytes replaced)."""
    text = body.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text


@dlq_app.command("inspect", help=_("cli.ops.dlq.inspect.help"))
def dlq_inspect(dlq: DlqTopic, partition: Partition, offset: Offset, as_json: Json = False) -> None:
    letter = _dlq_call(lambda: dead_letters.inspect(ops_settings(), dlq, partition, offset))
    if as_json:
        _echo_json(letter.as_dict(with_body=True))
        return
    typer.echo(_("cli.ops.dlq.inspect.ref", ref=letter.ref, original=f"{letter.original_topic}[{letter.original_partition}]@{letter.original_offset}",
                 group=letter.group or "?", failed_at=letter.failed_at.isoformat() if letter.failed_at else "?", attempts=letter.attempts or "?"))
    if letter.action:
        typer.echo(_("cli.ops.dlq.inspect.mark", **letter.action.as_dict()))
    typer.echo(_("cli.ops.dlq.inspect.key", key=letter.key.decode("utf-8", "replace") if letter.key is not None else "-"))
    typer.echo(_("cli.ops.dlq.inspect.headers"))
    for name, value in letter.headers.items():
        typer.echo(f"  {name}: {value}")
    typer.echo(_("cli.ops.dlq.inspect.body", size=len(letter.value)))
    typer.echo(pretty_body(letter.value))


@dlq_app.command("replay", help=_("cli.ops.dlq.replay.help"))
def dlq_replay(
    dlq: DlqTopic, partition: Partition, offset: Offset, by: By,
    payload: Annotated[Path | None, typer.Option("--payload", exists=True, dir_okay=False, help=_("cli.ops.dlq.option.payload"))] = None,
) -> None:
    body = payload.read_bytes() if payload else None
    done = _dlq_call(lambda: dead_letters.replay(ops_settings(), dlq, partition, offset, by, body))
    typer.echo(_("cli.ops.dlq.replay.done", ref=done.letter.ref, topic=done.topic, partition=done.partition, offset=done.offset, by=by))


@dlq_app.command("discard", help=_("cli.ops.dlq.discard.help"))
def dlq_discard(
    dlq: DlqTopic, partition: Partition, offset: Offset, by: By,
    reason: Annotated[str, typer.Option("--reason", help=_("cli.ops.dlq.option.reason"))],
) -> None:
    _dlq_call(lambda: dead_letters.discard(ops_settings(), dlq, partition, offset, by, reason))
    typer.echo(_("cli.ops.dlq.discard.done", ref=dead_letters.letter_ref(dlq, partition, offset), by=by, reason=reason))


# ---------------------------------------------------------------------------------------------- rebuild

class RebuildRefused(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code, self.params = code, params


@dataclass
class RebuildReport:
    service: str
    prefix: str  # the rebuild's consumer group prefix
    groups: dict[str, list[str]]  # rebuild group -> topics
    applied: dict[tuple[str, str], int] = field(default_factory=dict)  # (topic, inbox scope) -> events applied
    tables: dict[str, int] = field(default_factory=dict)
    not_applied: list[str] = field(default_factory=list)  # records a handler refused (they are in the DLQ already)
    outbox_settled: int = 0
    switched: dict[str, str] = field(default_factory=dict)  # real group -> rebuild group whose offsets it took


def rebuild_groups(service: str, prefix: str) -> dict[str, list[str]]:
    """The service's consumer groups under ``prefix`` and the topics each reads (as its bootstrap subscribes them)."""
    from shared.architecture import subscriptions

    groups: dict[str, list[str]] = {}
    for sub in subscriptions():
        if sub.service == service:
            suffix = f".{sub.group_suffix}" if sub.group_suffix else ""
            groups.setdefault(f"{prefix}.{service}{suffix}", []).append(sub.topic)
    return groups


def _offsets(settings: Settings, groups: Iterable[str], topic_names: Iterable[str]) -> tuple[dict[str, dict[Any, Any]], dict[Any, int], dict[Any, int]]:
    from kafka import TopicPartition

    with dead_letters._consumer(settings) as consumer:  # noqa: SLF001
        tps = [TopicPartition(t, p) for t in sorted(set(topic_names)) for p in sorted(consumer.partitions_for_topic(t) or ())]
        begin = consumer.beginning_offsets(tps) if tps else {}
        end = consumer.end_offsets(tps) if tps else {}
    admin = _admin(settings)
    try:
        committed = admin.list_group_offsets({g: None for g in groups})
    finally:
        admin.close()
    return committed, begin, end


def lag_of(settings: Settings, groups: dict[str, list[str]]) -> int:
    """The groups' lag on their topics, summed (committed offset vs the end, from the broker)."""
    committed, begin, end = _offsets(settings, groups, [t for ts in groups.values() for t in ts])
    total = 0
    for group, names in groups.items():
        mine = {tp: last for tp, last in end.items() if tp.topic in names}
        total += sum(group_lag(committed.get(group, {}), mine, begin).values())
    return total


def active_members(settings: Settings, groups: Iterable[str]) -> list[str]:
    """The groups among ``groups`` that have members (a running service)."""
    admin = _admin(settings)
    try:
        described = admin.describe_groups(list(groups))
    finally:
        admin.close()
    return sorted(g for g, info in described.items() if info.get("members"))


async def _replay_into(service: str, settings: Settings, groups: dict[str, list[str]], timeout_s: float, report: RebuildReport) -> None:
    """Run the service's own consumers (its bootstrap's subscriptions) on the new database until their lag is 0,
    publishing nothing: the events its handlers write to the outbox were published by the service the first time,
    and a record a handler refuses is already in the DLQ."""
    from shared.migrations import upgrade

    module = importlib.import_module(f"services.{service}.bootstrap")
    fastapi_app = module.bootstrap(settings, create_topics=False)
    runtime = fastapi_app.state.runtime
    await asyncio.to_thread(upgrade, service, runtime.engine)

    async def publish_nothing() -> int:
        return 0

    async def remember(record: Any, body: bytes, letter: Any, group_id: str | None = None) -> None:
        report.not_applied.append(f"{record.topic}:{record.partition}:{record.offset} ({group_id}: {letter.error_type})")

    runtime.relay.flush = publish_nothing  # the outbox is settled below, never published
    runtime.consumer._dead_letter = remember  # noqa: SLF001 - no second letter for a record already dead-lettered
    await runtime.broker.start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            await asyncio.sleep(1.0)
            lag = await asyncio.to_thread(lag_of, settings, groups)
            if lag == 0 and await asyncio.to_thread(_all_committed, settings, groups):
                break
            if time.monotonic() > deadline:
                raise RebuildRefused("cli.ops.rebuild.timeout", seconds=int(timeout_s), lag=lag)
    finally:
        await runtime.broker.stop()
    try:
        report.outbox_settled = await asyncio.to_thread(_settle_outbox, runtime.engine)
        report.applied, report.tables = await asyncio.to_thread(_what_was_applied, runtime.engine)
    finally:
        runtime.engine.dispose()


def _all_committed(settings: Settings, groups: dict[str, list[str]]) -> bool:
    """Each group committed on every partition that holds records (lag 0 alone would also hold for a group that has
    not joined yet on topics that are empty)."""
    committed, begin, end = _offsets(settings, groups, [t for ts in groups.values() for t in ts])
    for group, names in groups.items():
        done = committed.get(group, {})
        for tp, last in end.items():
            if tp.topic in names and last > begin.get(tp, 0) and tp not in done:
                return False
    return True


def _settle_outbox(engine: Any) -> int:
    from sqlalchemy import text

    with engine.begin() as connection:
        return connection.execute(text("UPDATE outbox SET published_at = CURRENT_TIMESTAMP WHERE published_at IS NULL")).rowcount or 0


def _what_was_applied(engine: Any) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    from sqlalchemy import inspect as inspect_schema, text

    with engine.connect() as connection:
        applied = {(row[0], row[1]): int(row[2]) for row in connection.execute(
            text("SELECT topic, consumer, COUNT(*) FROM processed_event GROUP BY topic, consumer ORDER BY topic, consumer"))}
        tables = {}
        for table in sorted(inspect_schema(connection).get_table_names()):
            if table in ("alembic_version", "processed_event", "outbox"):
                continue
            tables[table] = int(connection.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one())
    return applied, tables


def _switch(settings: Settings, service: str, groups: dict[str, list[str]], report: RebuildReport) -> None:
    """Copy the rebuild groups' committed offsets onto the service's real groups (which must have no members)."""
    from kafka.structs import OffsetAndMetadata

    real_prefix = settings.consumer_group_prefix
    pairs = {f"{real_prefix}.{g[len(report.prefix) + 1:]}": g for g in groups}
    if busy := active_members(settings, pairs):
        raise RebuildRefused("cli.ops.rebuild.active", service=service, groups=", ".join(busy))
    committed, _, _ = _offsets(settings, groups.keys(), [])
    admin = _admin(settings)
    try:
        for real, rebuilt in pairs.items():
            offsets = {tp: OffsetAndMetadata(done.offset, "", -1) for tp, done in committed.get(rebuilt, {}).items()}
            if offsets:
                result = admin.alter_group_offsets(real, offsets)
                failed = [f"{tp.topic}[{tp.partition}]: {error}" for tp, error in result.items() if getattr(error, "errno", 0)]
                if failed:
                    raise RuntimeError(f"{real}: {'; '.join(failed[:3])}")
            report.switched[real] = rebuilt
        try:  # the rebuild's groups have served their purpose
            admin.delete_groups(list(groups))
        except Exception:  # noqa: BLE001 - left behind, harmless (no members, not under the service's prefix)
            pass
    finally:
        admin.close()


def rebuild_service(service: str, into: str, settings: Settings | None = None, switch: bool = False, timeout_s: float = 600.0,
                    prefix: str | None = None) -> RebuildReport:
    """Rebuild ``service``'s read state into the database ``into`` from its input topics (see ``ohs ops rebuild --help``)."""
    if service in REFUSED:
        raise RebuildRefused(REFUSED[service])
    if service not in NOT_REBUILT:
        raise RebuildRefused("cli.ops.rebuild.unknown", service=service, services=", ".join(NOT_REBUILT))
    base = settings or ops_settings(service)
    real_groups = list(rebuild_groups(service, base.consumer_group_prefix))
    if switch and (busy := active_members(base, real_groups)):
        raise RebuildRefused("cli.ops.rebuild.active", service=service, groups=", ".join(busy))
    prefix = prefix or f"{base.consumer_group_prefix}-rebuild-{uuid.uuid4().hex[:8]}"
    settings_now = base.model_copy(update={"database_url": into, "consumer_group_prefix": prefix})
    groups = rebuild_groups(service, prefix)
    report = RebuildReport(service, prefix, groups)
    asyncio.run(_replay_into(service, settings_now, groups, timeout_s, report))
    if switch:
        # the service is stopped: what arrived while the rebuild ran is caught up by one more run in the same
        # groups, then their offsets become the service's own
        again = RebuildReport(service, prefix, groups)
        asyncio.run(_replay_into(service, settings_now, groups, timeout_s, again))
        report.applied, report.tables = again.applied, again.tables
        report.not_applied += again.not_applied
        report.outbox_settled += again.outbox_settled
        _switch(base, service, groups, report)
    return report


@app.command(help=_("cli.ops.rebuild.help"))
def rebuild(
    service: Annotated[str, typer.Argument(metavar="SERVICE", help=_("cli.ops.rebuild.arg.service"))],
    into: Annotated[str, typer.Option("--into", metavar="DATABASE_URL", help=_("cli.ops.rebuild.option.into"))],
    switch: Annotated[bool, typer.Option("--switch", help=_("cli.ops.rebuild.option.switch"))] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=5, help=_("cli.ops.rebuild.option.timeout"))] = 600.0,
    as_json: Json = False,
) -> None:
    if service in NOT_REBUILT:
        typer.echo(_("cli.ops.rebuild.not_rebuilt", what=_(NOT_REBUILT[service])), err=True)
        typer.echo(_("cli.ops.rebuild.started", service=service, into=_safe_url(into)), err=True)
    try:
        report = rebuild_service(service, into, switch=switch, timeout_s=timeout)
    except RebuildRefused as refused:
        raise _fail(refused.code, 1, **refused.params) from refused
    except Exception as error:  # noqa: BLE001 - an operator's command: say what failed
        raise _fail("cli.ops.failed", 2, error=said(error)) from error
    if as_json:
        _echo_json({"service": service, "prefix": report.prefix, "groups": report.groups,
                    "applied": [{"topic": t, "scope": c, "events": n} for (t, c), n in report.applied.items()],
                    "tables": report.tables, "not_applied": report.not_applied, "outbox_settled": report.outbox_settled,
                    "switched": report.switched})
        return
    typer.echo(_("cli.ops.rebuild.caught_up", service=service, prefix=report.prefix))
    for (topic, scope), count in report.applied.items():
        typer.echo(_("cli.ops.rebuild.applied", topic=topic, scope=scope or "-", count=count))
    for table, rows in report.tables.items():
        typer.echo(_("cli.ops.rebuild.table", table=table, rows=rows))
    if report.not_applied:
        typer.echo(_("cli.ops.rebuild.not_applied", count=len(report.not_applied), refs="; ".join(report.not_applied[:10])))
    typer.echo(_("cli.ops.rebuild.outbox", count=report.outbox_settled))
    if report.switched:
        typer.echo(_("cli.ops.rebuild.switched", service=service, groups=", ".join(report.switched), into=_safe_url(into)))
    else:
        typer.echo(_("cli.ops.rebuild.next", service=service))


def _safe_url(url: str) -> str:
    """The URL without its password, for the screen."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "?"


# ---------------------------------------------------------------------------------------------- rule data

RULE_SERVICES = ("assessment", "registry", "sampling", "penalty", "notification", "monitoring")


def _token(settings: Settings, region_code: str) -> str:
    import os

    from shared.auth import issue_token

    if token := os.environ.get("OHS_TOKEN"):
        return token
    if not settings.auth_secret:
        raise RebuildRefused("cli.ops.rules.no_token")
    province = region_code[:2] + "0000"
    return issue_token(settings.auth_secret, "province", "ohs ops", region_code=province, valid_seconds=300)


def rules_in_force(settings: Settings, regions: list[str], on: date | None = None, services: Iterable[str] = RULE_SERVICES,
                   timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """``GET /rules/in-force`` of each service for each county: one entry per service and county, with the rule
    sets (or the error)."""
    import httpx

    out = []
    for region in regions:
        headers = {"Authorization": f"Bearer {_token(settings, region)}"}
        params = {"region_code": region, **({"on": on.isoformat()} if on else {})}
        for service in services:
            url = getattr(settings, f"{service}_url").rstrip("/") + "/rules/in-force"
            try:
                response = httpx.get(url, params=params, headers=headers, timeout=timeout_s)
                if response.status_code != 200:
                    out.append({"service": service, "region_code": region, "error": f"HTTP {response.status_code}: {response.text[:300]}"})
                    continue
                body = response.json()
                out.append({"service": service, "region_code": region, "on": body.get("on"), "rule_sets": body.get("rule_sets", [])})
            except httpx.HTTPError as error:
                out.append({"service": service, "region_code": region, "error": f"{type(error).__name__}: {error}"})
    return out


@app.command(help=_("cli.ops.rules.help"))
def rules(
    region: Annotated[list[str], typer.Option("--region", help=_("cli.ops.rules.option.region"))],
    on: Annotated[date | None, typer.Option("--on", metavar="YYYY-MM-DD", parser=day_given, help=_("cli.ops.rules.option.on"))] = None,
    as_json: Json = False,
) -> None:
    try:
        found = rules_in_force(ops_settings(), region, on)
    except RebuildRefused as refused:
        raise _fail(refused.code, 2, **refused.params) from refused
    if as_json:
        _echo_json(found)
    else:
        for entry in found:
            if "error" in entry:
                typer.echo(_("cli.ops.rules.unreachable", service=entry["service"], region=entry["region_code"], error=entry["error"]))
                continue
            for rule_set in entry["rule_sets"]:
                if rule_set.get("missing"):
                    typer.echo(_("cli.ops.rules.missing", service=entry["service"], region=entry["region_code"], name=rule_set["name"]))
                else:
                    typer.echo(_("cli.ops.rules.line", service=entry["service"], region=entry["region_code"], name=rule_set["name"],
                                 jurisdiction=rule_set["jurisdiction"], version=rule_set["version"], effective_from=rule_set["effective_from"],
                                 provisional=_("cli.ops.rules.provisional") if rule_set.get("provisional") else ""))
    if any("error" in entry for entry in found):
        raise typer.Exit(2)


# ---------------------------------------------------------------------------------------------- outbox

Service = Annotated[str, typer.Option("--service", help=_("cli.ops.outbox.option.service"))]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help=_("cli.ops.outbox.option.database_url"))]


def _outbox_engine(service: str, database_url: str | None) -> Any:
    from shared.db import make_engine

    if service not in SERVICES:
        raise _fail("cli.ops.rebuild.unknown", 2, service=service, services=", ".join(SERVICES))
    return make_engine(database_url or ops_settings(service).resolved_database_url())


def set_aside_rows(engine: Any) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, topic, key, failed_at, error, LENGTH(payload) FROM outbox "
                                       "WHERE failed_at IS NOT NULL AND published_at IS NULL ORDER BY id"))
        return [{"id": r[0], "topic": r[1], "key": r[2], "failed_at": str(r[3]), "error": r[4], "size": r[5]} for r in rows]


def requeue_rows(engine: Any, row_id: int | None) -> int:
    """Put set-aside rows (one, or every one) back in the queue: the relay publishes them on its next round."""
    from sqlalchemy import text

    where = "failed_at IS NOT NULL AND published_at IS NULL" + (" AND id = :id" if row_id is not None else "")
    with engine.begin() as connection:
        return connection.execute(text(f"UPDATE outbox SET failed_at = NULL, error = NULL WHERE {where}"),
                                  {"id": row_id} if row_id is not None else {}).rowcount or 0


@outbox_app.command("list", help=_("cli.ops.outbox.list.help"))
def outbox_list(service: Service, database_url: DatabaseUrl = None, as_json: Json = False) -> None:
    engine = _outbox_engine(service, database_url)
    try:
        rows = set_aside_rows(engine)
    except Exception as error:  # noqa: BLE001
        raise _fail("cli.ops.failed", 2, error=said(error)) from error
    finally:
        engine.dispose()
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        typer.echo(_("cli.ops.outbox.none", service=service))
    for row in rows:
        typer.echo(_("cli.ops.outbox.line", **{k: row[k] for k in ("id", "topic", "key", "failed_at", "size")}, error=(row["error"] or "")[:200]))


@outbox_app.command("requeue", help=_("cli.ops.outbox.requeue.help"))
def outbox_requeue(
    service: Service,
    row_id: Annotated[int | None, typer.Option("--id", min=1, help=_("cli.ops.outbox.option.id"))] = None,
    every: Annotated[bool, typer.Option("--all", help=_("cli.ops.outbox.option.all"))] = False,
    database_url: DatabaseUrl = None,
) -> None:
    if (row_id is None) == (not every) or (row_id is not None and every):
        raise _fail("cli.ops.outbox.pick", 2)
    engine = _outbox_engine(service, database_url)
    try:
        count = requeue_rows(engine, row_id)
    except Exception as error:  # noqa: BLE001
        raise _fail("cli.ops.failed", 2, error=said(error)) from error
    finally:
        engine.dispose()
    if row_id is not None and count == 0:
        raise _fail("cli.ops.outbox.no_such_row", 1, id=row_id, service=service)
    typer.echo(_("cli.ops.outbox.requeued", count=count, service=service))


# ---------------------------------------------------------------------------------------------- consumer groups

groups_app = typer.Typer(help=_("cli.ops.groups.help"), no_args_is_help=True)
app.add_typer(groups_app, name="groups")


def instant_given(value: str) -> datetime:
    """An ISO date or date-time; without an offset, China time."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(_("cli.ops.groups.bad_time", value=value)) from error
    return when if when.tzinfo else when.replace(tzinfo=CHINA)


def rewind_groups(settings: Settings, service: str, to: datetime) -> dict[str, dict[str, list[int]]]:
    """Move each of ``service``'s consumer groups (which must have no members) back to the first record at or after
    ``to`` on every partition of its topics (the end where nothing is that recent). Returns group → topic → offsets."""
    from kafka import TopicPartition
    from kafka.admin import OffsetTimestamp

    groups = rebuild_groups(service, settings.consumer_group_prefix)
    if busy := active_members(settings, groups):
        raise RebuildRefused("cli.ops.rebuild.active", service=service, groups=", ".join(busy))
    stamp = int(to.timestamp() * 1000)
    moved: dict[str, dict[str, list[int]]] = {}
    with dead_letters._consumer(settings) as consumer:  # noqa: SLF001
        parts = {t: sorted(consumer.partitions_for_topic(t) or ()) for ts in groups.values() for t in ts}
    admin = _admin(settings)
    try:
        for group, names in groups.items():
            specs = {TopicPartition(t, p): OffsetTimestamp(stamp) for t in names for p in parts[t]}
            result = admin.reset_group_offsets(group, specs)
            failed = [f"{tp.topic}[{tp.partition}]: {r['error']}" for tp, r in result.items() if getattr(r["error"], "errno", 0)]
            if failed:
                raise RuntimeError(f"{group}: {'; '.join(failed[:3])}")
            for tp in sorted(result, key=lambda tp: (tp.topic, tp.partition)):
                moved.setdefault(group, {}).setdefault(tp.topic, []).append(result[tp]["offset"])
    finally:
        admin.close()
    return moved


@groups_app.command("rewind", help=_("cli.ops.groups.rewind.help"))
def groups_rewind(
    service: Annotated[str, typer.Argument(metavar="SERVICE", help=_("cli.ops.rebuild.arg.service"))],
    to: Annotated[datetime, typer.Option("--to", metavar="TIME", parser=instant_given, help=_("cli.ops.groups.option.to"))],
    as_json: Json = False,
) -> None:
    if service not in SERVICES:
        raise _fail("cli.ops.rebuild.unknown", 2, service=service, services=", ".join(SERVICES))
    try:
        moved = rewind_groups(ops_settings(service), service, to)
    except RebuildRefused as refused:
        raise _fail(refused.code, 1, **refused.params) from refused
    except Exception as error:  # noqa: BLE001
        raise _fail("cli.ops.failed", 2, error=said(error)) from error
    if as_json:
        _echo_json(moved)
        return
    for group, by_topic in moved.items():
        for topic, offsets in by_topic.items():
            typer.echo(_("cli.ops.groups.rewound", group=group, topic=topic, offsets=", ".join(map(str, offsets))))
    typer.echo(_("cli.ops.groups.restart", service=service))


@app.callback()
def _ops() -> None:
    """(the groups stay groups)"""


if __name__ == "__main__":
    app()
