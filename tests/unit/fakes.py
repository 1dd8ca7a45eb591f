"""The part of a ``FakeUnitOfWork`` every service's shares: the inbox and the outbox in memory.

A service's fake (``tests/unit/<service>/fakes.py``) adds its repositories. ``committed`` says
whether the use case committed; ``published`` lists the events it published, as the outbox would
hold them; ``payloads`` the non-event messages (CloudEvents)."""

from __future__ import annotations

from typing import Any

from shared.archive_region import AbstractArchivedEmployers, ArchivedEmployerBase
from shared.contracts import Envelope


class InMemoryInboxAndOutbox:
    def __init__(self) -> None:
        self.committed = False
        self.published: list[Envelope] = []
        self.payloads: list[dict[str, str]] = []
        self.inbox: set[tuple[str, str]] = set()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *args: object) -> None:  # nothing to roll back in memory: keep what the test looks at
        pass

    def commit(self) -> None:
        self.committed = True

    def rollback(self) -> None:
        pass

    def seen(self, event_id: str, consumer: str = "") -> bool:
        return (event_id, consumer) in self.inbox

    def mark_seen(self, event_id: str, topic: str, consumer: str = "") -> None:
        self.inbox.add((event_id, consumer))

    def publish(self, event: Envelope) -> None:
        self.published.append(event)

    def publish_payload(self, *, event_id: str, topic: str, key: str, payload: str) -> None:
        self.payloads.append({"event_id": event_id, "topic": topic, "key": key, "payload": payload})

    def events(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.published if isinstance(event, kind)]


class FakeArchivedEmployers(AbstractArchivedEmployers[Any]):
    """Where the archive has each employer (shared.archive_region), in a dict."""

    def __init__(self, model: type[ArchivedEmployerBase]) -> None:
        self.model = model
        self.by_code: dict[str, Any] = {}

    def get(self, credit_code: str) -> Any:
        return self.by_code.get(credit_code)

    def add(self, employer: Any) -> None:
        self.by_code[employer.credit_code] = employer
