"""The change log: append a hash-chained entry, read and verify a region's chain.

Appending runs inside the caller's transaction. Writers of one region are serialised on that
region's row of ``registry_chain_head``: the row is created if missing (``INSERT … ON CONFLICT
DO NOTHING``, which on SQLite also takes the database's write lock), then read ``FOR UPDATE``
(PostgreSQL: a row lock held to the commit), the entry is written after the head it read, and
the head is moved to it. A second registry process appending to the same region waits for the
first to commit and then links to its entry; ``uq_registry_change_log_link`` refuses a fork
should anything get past the lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from services.registry.adapters.orm import ChainHeadRecord, ChangeLogEntry
from services.registry.domain.chain import (
    GENESIS_HASH,
    ChainHead,
    VerifyResult,
    entry_hash,
    verify,
)
from shared.contracts import utc_now


def system_actor(producer: str, event_id: object) -> str:
    """The actor of a change applied by a consumer from another service's event."""
    return f"system:{producer} event {event_id}"


def _lock_head(session: Session, region_code: str) -> ChainHeadRecord:
    """The region's head, locked for this transaction. Locked once per transaction: a batch of events
    appending to one county's chain reuses the head it holds (``append`` keeps it up to date)."""
    transaction = session.get_transaction()
    held = session.info.get("chain_heads")
    if held is None or held[0] is not transaction:
        held = session.info["chain_heads"] = (transaction, {})
    head = held[1].get(region_code)
    if head is None:
        head = held[1][region_code] = _lock_head_row(session, region_code)
    return head


def _lock_head_row(session: Session, region_code: str) -> ChainHeadRecord:
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:  # pragma: no cover - the registry runs on SQLite or PostgreSQL
        raise RuntimeError(f"the change log supports SQLite and PostgreSQL, not {dialect}")
    session.execute(
        insert(ChainHeadRecord)
        .values(region_code=region_code, last_seq=0, last_hash=GENESIS_HASH)
        .on_conflict_do_nothing(index_elements=["region_code"])
    )
    statement = (
        select(ChainHeadRecord)
        .where(ChainHeadRecord.region_code == region_code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).one()


def _next_seq(session: Session) -> int:
    """The next entry's seq, given out without writing anything yet (so a batch of entries is written in one
    flush). PostgreSQL: the column's sequence. SQLite: the database's write lock is held (``_lock_head`` wrote),
    so the last seq ever given out (``sqlite_sequence``) is read once per transaction and counted on from."""
    connection = session.connection()  # not session.execute: that would flush what is pending first
    if connection.dialect.name == "postgresql":
        return int(connection.execute(text("SELECT nextval(pg_get_serial_sequence('registry_change_log', 'seq'))")).scalar_one())
    transaction = session.get_transaction()
    held = session.info.get("chain_seq")
    if held is None or held[0] is not transaction:
        last = connection.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'registry_change_log'")).scalar()
        held = session.info["chain_seq"] = [transaction, int(last or 0)]
    held[1] += 1
    return held[1]


def lock_regions(session: Session, region_codes: list[str]) -> None:
    """Lock several regions' heads up front, in code order, before appending to each."""
    for region_code in sorted(set(region_codes)):
        _lock_head(session, region_code)


def append(
    session: Session,
    *,
    region_code: str,
    credit_code: str,
    change: str,
    category_before: str | None,
    category_after: str | None,
    actor: str,
    reason: str,
    payload: dict[str, Any],
) -> ChangeLogEntry:
    """Append one entry to the region's chain, in the caller's transaction."""
    head = _lock_head(session, region_code)
    entry = ChangeLogEntry(
        seq=_next_seq(session),
        region_code=region_code,
        credit_code=credit_code,
        change=change,
        category_before=category_before,
        category_after=category_after,
        actor=actor,
        reason=reason,
        payload=json.loads(json.dumps(payload, ensure_ascii=False)),  # exactly what the JSON column gives back
        recorded_at=utc_now(),
        prev_hash=head.last_hash,
        hash="",  # set below: it covers every other column, the seq included
    )
    entry.hash = entry_hash(entry.model_dump())
    session.add(entry)  # written with the next flush, at the latest the commit's
    head.last_seq, head.last_hash = entry.seq, entry.hash  # type: ignore[assignment]
    session.add(head)  # written with the next flush, at the latest the commit's
    return entry


def region_entries(session: Session, region_code: str, from_seq: int = 0, limit: int | None = None) -> list[ChangeLogEntry]:
    statement = (
        select(ChangeLogEntry)
        .where(ChangeLogEntry.region_code == region_code, col(ChangeLogEntry.seq) >= from_seq)
        .order_by(col(ChangeLogEntry.seq))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


def _stream(session: Session, region_code: str, batch: int = 1000) -> Iterator[ChangeLogEntry]:
    after = 0
    while True:
        rows = region_entries(session, region_code, after + 1, batch)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq  # type: ignore[assignment]


def verify_region(session: Session, region_code: str, attempts: int = 3) -> VerifyResult:
    """Verify one region's chain against its entries and its head.

    The head and the entries are read by separate statements, so an entry appended meanwhile by
    the running service can make them disagree once; a disagreement is therefore read again
    (tampering fails every time)."""
    for _ in range(attempts):
        head_row = session.exec(
            select(ChainHeadRecord).where(ChainHeadRecord.region_code == region_code).execution_options(populate_existing=True)
        ).first()
        head = ChainHead(head_row.last_seq, head_row.last_hash) if head_row is not None else None
        result = verify(_stream(session, region_code), head)
        if result.ok or head is None or not result.reason or "chain head" not in result.reason:
            return result
        session.rollback()  # a fresh snapshot for the next reading
    return result


def chained_regions(session: Session) -> list[str]:
    """Every region with a chain (entries or a head)."""
    with_entries = set(session.exec(select(ChangeLogEntry.region_code).distinct()))
    with_head = set(session.exec(select(ChainHeadRecord.region_code)))
    return sorted(with_entries | with_head)
