"""Database plumbing: one engine per service, its own tables only, plus the inbox and outbox.

* ``processed_event`` (inbox): the ``event_id`` of every event a service has applied, with the
  ``consumer`` that applied it, written in the same transaction as the change it caused, so a
  redelivered event changes nothing. ``consumer`` is ``""`` for the service's own consumer group
  and the group suffix for an extra group (``ReliableConsumer.subscribe(..., group_suffix=…)``):
  two subscribers of one service that both receive an event each apply it once.
* ``outbox``: events a service wants to publish, written in the same transaction as the change
  that produced them and published afterwards by ``shared.messaging.OutboxRelay``; an event is
  never lost between a commit and a crash.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, event, insert, text
from sqlmodel import Field, Session, SQLModel, create_engine, func, select

from shared.contracts import Envelope, utc_now

T = TypeVar("T")


def _remember_default_factory_signatures() -> None:
    """Pydantic asks ``inspect.signature`` of a field's ``default_factory`` each time it makes a default, and
    SQLModel table models make their defaults on every construction (``utc_now``, ``list``, ``dict``): a
    tenth of a batch's time went there. A factory's signature does not change; ask once per factory."""
    from pydantic._internal import _fields

    asked = getattr(_fields, "takes_validated_data_argument", None)
    if asked is None or hasattr(asked, "cache_info"):  # another pydantic, or already done
        return
    cached = functools.lru_cache(maxsize=1024)(asked)

    def takes_validated_data_argument(default_factory: Any) -> Any:
        try:
            return cached(default_factory)
        except TypeError:  # an unhashable factory
            return asked(default_factory)

    takes_validated_data_argument.cache_info = cached.cache_info  # type: ignore[attr-defined]
    _fields.takes_validated_data_argument = takes_validated_data_argument


_remember_default_factory_signatures()


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=36)
    consumer: str = Field(default="", primary_key=True, max_length=100, sa_column_kwargs={"server_default": ""})
    topic: str = Field(max_length=200)
    processed_at: datetime = Field(default_factory=utc_now)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    topic: str = Field(max_length=200, index=True)
    key: str = Field(max_length=64)
    payload: str
    created_at: datetime = Field(default_factory=utc_now)
    published_at: datetime | None = Field(default=None, index=True)
    # set aside: the broker refused the row for good (e.g. too large); the relay goes on with the rest
    failed_at: datetime | None = Field(default=None)
    error: str | None = Field(default=None, max_length=2000)
    # Kafka headers to publish with the row beside its content type: the W3C trace context (traceparent,
    # tracestate) of the unit of work that wrote it, as a JSON object (shared.tracing); None without a trace
    headers: str | None = Field(default=None)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def create_tables(engine: Engine, models: Iterable[type[SQLModel]]) -> None:
    """Create this service's tables (and the inbox and outbox) if they do not exist."""
    tables = [m.__table__ for m in (*models, ProcessedEvent, OutboxMessage)]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(engine, tables=tables)


def advisory_key(name: str) -> int:
    """A PostgreSQL advisory lock key (a signed 64-bit integer) for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - health check reports, never raises
        return False


# The inbox marks and outbox rows of a transaction wait in the session and are written just before it
# commits, each kind in one multi-row INSERT (a batch of events costs two statements, not two per event).
_INBOX_ROWS, _OUTBOX_ROWS = "ohs_inbox_rows", "ohs_outbox_rows"


@event.listens_for(Session, "before_commit")
def _write_inbox_and_outbox(session: Session) -> None:
    inbox, outbox = session.info.pop(_INBOX_ROWS, None), session.info.pop(_OUTBOX_ROWS, None)
    if inbox:
        session.execute(insert(ProcessedEvent.__table__), list(inbox.values()))  # type: ignore[attr-defined]
    if outbox:
        session.execute(insert(OutboxMessage.__table__), outbox)  # type: ignore[attr-defined]


@event.listens_for(Session, "after_rollback")
def _forget_inbox_and_outbox(session: Session) -> None:
    session.info.pop(_INBOX_ROWS, None)
    session.info.pop(_OUTBOX_ROWS, None)
    session.info.pop(_KNOWN, None)


@event.listens_for(Session, "after_commit")
def _forget_what_was_preloaded(session: Session) -> None:
    session.info.pop(_KNOWN, None)


# --- preloading for a batch -------------------------------------------------------------------------
# A batch's handlers look rows up one key at a time; each lookup that reaches the database first flushes
# what the previous event changed (autoflush), so a batch would cost a flush and a query per event. A
# batch's ``prepare`` loads the rows of all its keys in one query instead; lookups of a key it covered
# are answered from memory (the row, or None when there was none), and rows the batch adds are
# remembered, until the transaction ends. Should anything slip past (a row added without ``remember``),
# the unique keys refuse the duplicate, the batch's transaction fails and its events are applied one by
# one without preloading: slower, never wrong.
_KNOWN = "ohs_known"


def preloaded(session: Session) -> dict[Any, Any]:
    """What this transaction has preloaded, by key; a repository may keep answers of its own here (forgotten with
    the transaction, like the rows)."""
    return session.info.setdefault(_KNOWN, {})


def _known(session: Session, model: type[SQLModel], column: str) -> dict[Any, Any] | None:
    return session.info.get(_KNOWN, {}).get((model, column))


def _key_column(model: type[SQLModel]) -> str:
    columns = list(model.__table__.primary_key.columns)  # type: ignore[attr-defined]
    return columns[0].name if len(columns) == 1 else ""  # "": a composite key, looked up by other columns only


def preload(session: Session, model: type[SQLModel], keys: Iterable[Any], column: str | None = None) -> None:
    """Load the rows of ``model`` whose ``column`` (unique; by default the primary key) is among ``keys``."""
    column = column or _key_column(model)
    wanted = list(dict.fromkeys(keys))
    known = session.info.setdefault(_KNOWN, {}).setdefault((model, column), {})
    attribute = getattr(model, column)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for key in chunk:
            known.setdefault(key, None)
        for row in session.exec(select(model).where(attribute.in_(chunk))):
            known[getattr(row, column)] = row


def lookup(session: Session, model: type[SQLModel], key: Any, column: str | None = None) -> Any:
    """The row of ``model`` whose ``column`` is ``key`` (a preloaded answer when there is one), or None."""
    column = column or _key_column(model)
    known = _known(session, model, column)
    if known is not None and key in known:
        return known[key]
    if column == _key_column(model):
        return session.get(model, key)
    return session.exec(select(model).where(getattr(model, column) == key)).first()


def remember(session: Session, row: SQLModel, *columns: str) -> None:
    """Add ``row`` to the session; lookups by its primary key (and ``columns``) now find it."""
    session.add(row)
    for column in (_key_column(type(row)), *columns):
        known = _known(session, type(row), column) if column else None
        if known is not None:
            known[getattr(row, column)] = row


def already_processed(session: Session, event_id: str, consumer: str = "") -> bool:
    if (event_id, consumer) in session.info.get(_INBOX_ROWS, {}):
        return True
    return session.get(ProcessedEvent, {"event_id": event_id, "consumer": consumer}) is not None


def processed_among(session: Session, event_ids: list[str], consumer: str = "") -> set[str]:
    """The ids among ``event_ids`` this consumer has already processed: one query per 500 ids."""
    pending = session.info.get(_INBOX_ROWS, {})
    found = {event_id for event_id in event_ids if (event_id, consumer) in pending}
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start:start + 500]
        statement = select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == consumer, ProcessedEvent.event_id.in_(chunk))  # type: ignore[attr-defined]
        found.update(session.exec(statement))
    return found


def mark_processed(session: Session, event_id: str, topic: str, consumer: str = "") -> None:
    """Record in the caller's transaction that ``consumer`` processed the event (written at the commit)."""
    session.info.setdefault(_INBOX_ROWS, {})[(event_id, consumer)] = {
        "event_id": event_id, "consumer": consumer, "topic": topic, "processed_at": utc_now(),
    }


def enqueue(session: Session, event_: Envelope, headers: str | None = None) -> None:
    """Add an event to the outbox inside the caller's transaction (``headers``: see ``OutboxMessage.headers``)."""
    enqueue_payload(session, event_id=str(event_.event_id), topic=event_.topic, key=event_.partition_key, payload=event_.model_dump_json(),
                    headers=headers)


def enqueue_payload(session: Session, *, event_id: str, topic: str, key: str, payload: str, headers: str | None = None) -> None:
    """Add a message that is not an :class:`Event` (e.g. a CloudEvent for an external system) to the
    outbox inside the caller's transaction (written at the commit, in order). ``event_id`` is the outbox
    row's unique id."""
    session.info.setdefault(_OUTBOX_ROWS, []).append({
        "event_id": event_id, "topic": topic, "key": key, "payload": payload, "created_at": utc_now(),
        "published_at": None, "failed_at": None, "error": None, "headers": headers,
    })


def outbox_has(session: Session, event_id: str) -> bool:
    if any(row["event_id"] == event_id for row in session.info.get(_OUTBOX_ROWS, ())):
        return True
    return lookup(session, OutboxMessage, event_id, "event_id") is not None


def _pending():  # noqa: ANN202 - the filter of rows still to publish (not published, not set aside)
    return OutboxMessage.published_at.is_(None) & OutboxMessage.failed_at.is_(None)  # type: ignore[union-attr]


def count_pending_outbox(session: Session) -> int:
    return session.exec(select(func.count()).select_from(OutboxMessage).where(_pending())).one()


def count_set_aside_outbox(session: Session) -> int:
    """Rows the broker refused for good and the relay set aside: each one an alarm for an operator."""
    return session.exec(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.failed_at.is_not(None))).one()  # type: ignore[union-attr]


def oldest_pending_outbox(session: Session) -> datetime | None:
    return session.exec(select(func.min(OutboxMessage.created_at)).where(_pending())).one()


def pending_outbox(session: Session, limit: int = 500) -> list[OutboxMessage]:
    statement = select(OutboxMessage).where(_pending()).order_by(OutboxMessage.id).limit(limit)  # type: ignore[arg-type]
    return list(session.exec(statement))


async def in_session(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run ``work`` with a session in a worker thread, off the event loop (HTTP handlers use it).
    ``work`` commits if it writes."""

    def run() -> T:
        with Session(engine) as session:
            return work(session)

    return await asyncio.to_thread(run)
