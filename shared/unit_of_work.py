"""The unit of work: the one place where a service's change becomes durable.

After cosmicpython's ``service_layer/unit_of_work.py``. A use case (an HTTP command, a Kafka
event handler, a periodic sweep) does its work against ``uow`` and calls ``uow.commit()``; leaving
the ``with`` block without committing rolls everything back. Besides the service's own tables a
unit of work owns:

* the **inbox** (``seen`` / ``mark_seen``): an event already applied by this consumer is not
  applied again (at-least-once delivery made idempotent);
* the **outbox** (``publish``): events are written in the same transaction as the change that
  produced them, and published after the commit by the outbox relay, which ``commit`` wakes
  without waiting for it (a request never waits on the broker). Each row keeps the current W3C
  trace context, published with it as Kafka headers (``shared.tracing``).

Each service subclasses :class:`SqlUnitOfWork` with its repositories; its handler tests use a
``FakeUnitOfWork`` with in-memory repositories (``tests/unit/<service>/fakes.py``).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from shared.contracts import Envelope
from shared.db import already_processed, enqueue, enqueue_payload, mark_processed, processed_among
from shared.tracing import current_headers_json

T = TypeVar("T")
U = TypeVar("U", bound="AbstractUnitOfWork")


class AbstractUnitOfWork(abc.ABC):
    """What a use case may rely on, whatever stores it."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the change, the inbox marks and the outbox rows durable together."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Forget everything since the last commit."""

    # --- inbox -----------------------------------------------------------------------------
    @abc.abstractmethod
    def seen(self, event_id: str, consumer: str = "") -> bool:
        """Has this consumer (``""``: the service's own group) already applied the event?"""

    def seen_many(self, event_ids: list[str], consumer: str = "") -> set[str]:
        """Which of ``event_ids`` this consumer has already applied (a batch asks once)."""
        return {event_id for event_id in event_ids if self.seen(event_id, consumer)}

    @abc.abstractmethod
    def mark_seen(self, event_id: str, topic: str, consumer: str = "") -> None:
        """Record, in this transaction, that the consumer applied the event."""

    # --- outbox ----------------------------------------------------------------------------
    @abc.abstractmethod
    def publish(self, event: Envelope) -> None:
        """Publish ``event`` if (and only if) this unit of work commits."""

    @abc.abstractmethod
    def publish_payload(self, *, event_id: str, topic: str, key: str, payload: str) -> None:
        """Publish a message that is not an :class:`Envelope` (a CloudEvent for an external system)."""


class SqlUnitOfWork(AbstractUnitOfWork):
    """A unit of work over one SQLAlchemy session of the service's own database.

    ``session`` is there for repositories and read models; only :meth:`commit` commits it.
    ``after_commit`` (the outbox relay's ``notify``) is called after a commit that published."""

    def __init__(self, engine: Engine, after_commit: Callable[[], None] | None = None):
        self._engine = engine
        self._after_commit = after_commit
        self._published = False
        self.session: Session

    def __enter__(self) -> Self:
        self.session = Session(self._engine)
        self._published = False
        return super().__enter__()

    def __exit__(self, *args: object) -> None:
        super().__exit__(*args)
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
        if self._published:
            self._published = False
            if self._after_commit is not None:
                self._after_commit()

    def rollback(self) -> None:
        self.session.rollback()
        self._published = False

    def seen(self, event_id: str, consumer: str = "") -> bool:
        return already_processed(self.session, event_id, consumer)

    def seen_many(self, event_ids: list[str], consumer: str = "") -> set[str]:
        return processed_among(self.session, event_ids, consumer)

    def mark_seen(self, event_id: str, topic: str, consumer: str = "") -> None:
        mark_processed(self.session, event_id, topic, consumer)

    def publish(self, event: Envelope) -> None:
        # the current trace context (the HTTP request's, or the consumed event's) travels with the row
        enqueue(self.session, event, headers=current_headers_json())
        self._published = True

    def publish_payload(self, *, event_id: str, topic: str, key: str, payload: str) -> None:
        enqueue_payload(self.session, event_id=event_id, topic=topic, key=key, payload=payload, headers=current_headers_json())
        self._published = True


class UnitOfWorkFactory(Generic[U]):
    """Makes a service's units of work; :meth:`run` runs a use case in one, off the event loop.

    HTTP routes receive it as a dependency (``shared.http.UnitOfWorkDep``) and hand it the use
    case: ``await uow.run(lambda u: use_cases.grant_exemption(u, command))``."""

    def __init__(self, make: Callable[[], U]):
        self._make = make

    def __call__(self) -> U:
        return self._make()

    async def run(self, work: Callable[[U], T]) -> T:
        def in_thread() -> T:
            with self._make() as uow:
                return work(uow)

        return await asyncio.to_thread(in_thread)


def sql_unit_of_work_factory(engine: Engine, after_commit: Callable[[], None] | None = None,
                             cls: type[SqlUnitOfWork] = SqlUnitOfWork, **kwargs: Any) -> UnitOfWorkFactory[Any]:
    """A factory of ``cls`` units of work over ``engine``."""
    return UnitOfWorkFactory(lambda: cls(engine, after_commit, **kwargs))
