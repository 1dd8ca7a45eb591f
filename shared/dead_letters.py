"""Dead letters: list, inspect, replay and discard the records consumers gave up on, and count those
no operator has dealt with yet.

A dead letter is a record on ``<topic>.dlq`` written by :meth:`shared.messaging.ReliableConsumer._dead_letter`:
the original bytes and key, and ``x-dlq-*`` headers naming the original topic, partition and offset,
the consumer group, the attempts, the error and when it failed. The DLQs themselves are never
rewritten; what an operator did with a letter is a record on the compacted topic
:data:`shared.topics.DEAD_LETTER_ACTIONS` keyed ``"<dlq topic>:<partition>:<offset>"`` with the JSON
``{"action": "replayed"|"discarded", "by", "note", "at" (ISO, China time), "original_topic"}``
(a *mark*). A letter with a mark is *handled*; the others are *unhandled*
(:func:`unhandled_dead_letters`, exported by every service as ``ohs_dead_letters_unhandled{topic}``).

:func:`replay` publishes the letter's bytes (or a payload the operator fixed) back to its original
topic, with the original key and the letter's headers other than ``x-dlq-*`` (plus
``x-replayed-from: <dlq>:<partition>:<offset>``), then writes the mark. A letter already marked is
refused. The two steps are not atomic: a crash between the publish and the mark leaves the letter
unmarked, and a second replay publishes it again — harmless, because every consumer applies an
``event_id`` once (its inbox), and the consumer groups that had applied the event before it was
dead-lettered elsewhere skip the replayed copy for the same reason.

Plumbing only: blocking functions over kafka-python, connecting as the settings say
(KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*: :func:`shared.kafka_admin.client_options`); call them from a
thread in async code. The principal needs DESCRIBE on the DLQs (offsets only) and READ on the DLQs
it lists and on the actions topic; writing marks and replaying need WRITE on the actions topic and on
the original topic (the operator runs ``ohs ops dlq`` as ``admin`` on a secured cluster).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from shared.dates import CHINA
from shared.topics import DEAD_LETTER_ACTIONS, TOPICS, content_type

if TYPE_CHECKING:
    from kafka import KafkaConsumer

    from shared.settings import Settings

DLQ_HEADER_PREFIX = "x-dlq-"  # as shared.messaging writes them
REPLAYED_FROM_HEADER = "x-replayed-from"
ACTIONS = ("replayed", "discarded")
Action = Literal["replayed", "discarded"]
READ_TIMEOUT_S = 30.0
CLIENT_ID = "ohs-ops"


class DeadLetterError(Exception):
    """Something an operator asked of a dead letter that cannot be done; the message says why."""


class DeadLetterNotFound(DeadLetterError):
    """No record at that DLQ topic, partition and offset (never there, or past retention)."""


class AlreadyHandled(DeadLetterError):
    """The letter already has a mark (replayed or discarded)."""


class ReplayRefused(DeadLetterError):
    """The letter cannot be replayed as it is (its body or key was cut, its original topic is unknown)."""


@dataclass(frozen=True)
class Mark:
    """What an operator did with a dead letter."""

    action: str
    by: str
    note: str
    at: str  # ISO 8601, China offset
    original_topic: str

    def as_dict(self) -> dict[str, str]:
        return {"action": self.action, "by": self.by, "note": self.note, "at": self.at, "original_topic": self.original_topic}


@dataclass
class DeadLetter:
    dlq_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]  # decoded (UTF-8, undecodable bytes replaced); raw_headers keeps the bytes
    failed_at: datetime | None
    reason: str
    error_type: str
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    group: str
    attempts: int | None
    timestamp_ms: int | None = None  # the broker's timestamp of the letter
    action: Mark | None = None
    raw_headers: list[tuple[str, bytes]] = field(default_factory=list, repr=False)

    @property
    def ref(self) -> str:
        """``<dlq topic>:<partition>:<offset>``: the key of its mark."""
        return letter_ref(self.dlq_topic, self.partition, self.offset)

    @property
    def body_truncated(self) -> bool:
        return self.headers.get(f"{DLQ_HEADER_PREFIX}body-truncated") == "true"

    @property
    def key_truncated(self) -> bool:
        return f"{DLQ_HEADER_PREFIX}key-sha256" in self.headers

    def as_dict(self, with_body: bool = False) -> dict[str, Any]:
        """A JSON-ready summary (``with_body``: the body as text, and every header)."""
        out: dict[str, Any] = {
            "dlq_topic": self.dlq_topic, "partition": self.partition, "offset": self.offset,
            "key": self.key.decode("utf-8", "replace") if self.key is not None else None,
            "failed_at": self.failed_at.isoformat() if self.failed_at else None,
            "reason": self.reason, "error_type": self.error_type, "original_topic": self.original_topic,
            "original_partition": self.original_partition, "original_offset": self.original_offset,
            "group": self.group, "attempts": self.attempts, "size": len(self.value),
            "action": self.action.as_dict() if self.action else None,
        }
        if with_body:
            out["headers"] = dict(self.headers)
            out["body"] = self.value.decode("utf-8", "replace")
        return out


def letter_ref(dlq_topic: str, partition: int, offset: int) -> str:
    return f"{dlq_topic}:{partition}:{offset}"


def parse_ref(ref: str) -> tuple[str, int, int]:
    """``"<dlq>:<partition>:<offset>"`` → (dlq, partition, offset); ValueError if it is not one."""
    topic, partition, offset = ref.rsplit(":", 2)
    return topic, int(partition), int(offset)


def dlq_topics() -> list[str]:
    """Every dead-letter topic of the platform."""
    return [t.dlq for t in TOPICS]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _when(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _letter(record: Any, marks: dict[str, Mark]) -> DeadLetter:
    raw = [(k, v if isinstance(v, bytes) else (v or b"")) for k, v in (record.headers or [])]
    headers = {k: v.decode("utf-8", "replace") for k, v in raw}
    h = headers.get
    original_topic = h(f"{DLQ_HEADER_PREFIX}original-topic") or record.topic.removesuffix(".dlq")
    return DeadLetter(
        dlq_topic=record.topic, partition=record.partition, offset=record.offset, key=record.key,
        value=record.value or b"", headers=headers, failed_at=_when(h(f"{DLQ_HEADER_PREFIX}failed-at")),
        reason=h(f"{DLQ_HEADER_PREFIX}reason", ""), error_type=h(f"{DLQ_HEADER_PREFIX}error-type", ""),
        original_topic=original_topic, original_partition=_int(h(f"{DLQ_HEADER_PREFIX}partition")),
        original_offset=_int(h(f"{DLQ_HEADER_PREFIX}offset")), group=h(f"{DLQ_HEADER_PREFIX}consumer-group", ""),
        attempts=_int(h(f"{DLQ_HEADER_PREFIX}attempts")), timestamp_ms=getattr(record, "timestamp", None),
        action=marks.get(letter_ref(record.topic, record.partition, record.offset)), raw_headers=raw,
    )


# ---------------------------------------------------------------------------------------------- connections

def group_less_consumer(settings: Settings, client_id: str = CLIENT_ID, request_timeout_ms: int = 30_000) -> KafkaConsumer:
    """A consumer without a group (nothing committed, nothing auto-created): for offsets and reading by hand.
    The lag probe keeps one open across its runs (shared/lag.py)."""
    from kafka import KafkaConsumer

    from shared.kafka_admin import client_options

    return KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, client_id=client_id, group_id=None,
        enable_auto_commit=False, allow_auto_create_topics=False, auto_offset_reset="earliest",
        request_timeout_ms=request_timeout_ms, **client_options(settings),
    )


@contextmanager
def _consumer(settings: Settings, given: KafkaConsumer | None = None) -> Iterator[KafkaConsumer]:
    """``given``, left open, or a new group-less consumer, closed afterwards."""
    if given is not None:
        yield given
        return
    consumer = group_less_consumer(settings)
    try:
        yield consumer
    finally:
        consumer.close()


def _partitions(consumer: KafkaConsumer, topic: str) -> list[Any]:
    from kafka import TopicPartition

    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


def _read(consumer: KafkaConsumer, tp: Any, start: int, end: int, timeout_s: float = READ_TIMEOUT_S) -> Iterator[Any]:
    """The records of one partition from ``start`` up to (not including) ``end``, in order."""
    if start >= end:
        return
    consumer.assign([tp])
    consumer.seek(tp, start)
    deadline = time.monotonic() + timeout_s
    while True:
        batch = consumer.poll(timeout_ms=500, max_records=500).get(tp, [])
        for record in batch:
            if record.offset >= end:
                return
            yield record
        if consumer.position(tp) >= end:
            return
        if batch:
            deadline = time.monotonic() + timeout_s
        elif time.monotonic() > deadline:
            raise TimeoutError(f"{tp.topic}[{tp.partition}]: offsets {start}..{end} not delivered in {timeout_s:.0f} s")


# ---------------------------------------------------------------------------------------------- the marks

class _Marks:
    """The marks read so far from one cluster's actions topic, and where the reading stopped:
    each call reads only what was appended since (the topic is compacted: a reader that goes in
    order always ends with the last mark of each key)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.position = 0
        self.marks: dict[str, Mark] = {}

    def refresh(self, consumer: KafkaConsumer) -> dict[str, Mark]:
        from kafka import TopicPartition

        with self.lock:
            if not consumer.partitions_for_topic(DEAD_LETTER_ACTIONS):
                self.position, self.marks = 0, {}
                return {}
            tp = TopicPartition(DEAD_LETTER_ACTIONS, 0)
            begin = consumer.beginning_offsets([tp])[tp]
            end = consumer.end_offsets([tp])[tp]
            if self.position > end or self.position < begin:  # recreated or cut by retention: read it whole
                self.position, self.marks = begin, {}
            for record in _read(consumer, tp, self.position, end):
                key = (record.key or b"").decode("utf-8", "replace")
                if record.value is None:  # a tombstone takes a mark back
                    self.marks.pop(key, None)
                    continue
                try:
                    data = json.loads(record.value)
                    self.marks[key] = Mark(str(data["action"]), str(data.get("by", "")), str(data.get("note", "")),
                                           str(data.get("at", "")), str(data.get("original_topic", "")))
                except (ValueError, KeyError, TypeError):
                    continue  # not a mark: ignore it
            self.position = end
            return dict(self.marks)


_marks_by_cluster: dict[tuple[str, str | None], _Marks] = {}
_marks_lock = threading.Lock()


def _marks(settings: Settings, consumer: KafkaConsumer) -> dict[str, Mark]:
    cluster = (settings.kafka_bootstrap_servers, settings.kafka_sasl_username)
    with _marks_lock:
        marks = _marks_by_cluster.setdefault(cluster, _Marks())
    return marks.refresh(consumer)


def marks(settings: Settings) -> dict[str, Mark]:
    """Every mark in force, by ``"<dlq>:<partition>:<offset>"``."""
    with _consumer(settings) as consumer:
        return _marks(settings, consumer)


# ---------------------------------------------------------------------------------------------- reading

def unhandled_dead_letters(settings: Settings, dlq_topics: Iterable[str], consumer: KafkaConsumer | None = None) -> dict[str, int]:
    """Per DLQ topic: its records from the earliest retained offset to the end that have no mark.

    Only offsets are asked while the DLQs are empty; the marks topic is read (incrementally, from
    where the last call in this process stopped) only when some DLQ holds records. A topic that does
    not exist counts 0. ``consumer``: an open group-less consumer to use (the lag probe's), else one
    is made for the call."""
    wanted = list(dict.fromkeys(dlq_topics))
    counts = dict.fromkeys(wanted, 0)
    with _consumer(settings, consumer) as consumer:
        tps = [tp for topic in wanted for tp in _partitions(consumer, topic)]
        if not tps:
            return counts
        begin = consumer.beginning_offsets(tps)
        end = consumer.end_offsets(tps)
        if all(end[tp] <= begin[tp] for tp in tps):
            return counts
        in_force = _marks(settings, consumer)
    handled: dict[tuple[str, int], int] = {}
    ranges = {(tp.topic, tp.partition): (begin[tp], end[tp]) for tp in tps}
    for ref, mark in in_force.items():
        try:
            topic, partition, offset = parse_ref(ref)
        except ValueError:
            continue
        span = ranges.get((topic, partition))
        if span and span[0] <= offset < span[1] and mark.action in ACTIONS:
            handled[(topic, partition)] = handled.get((topic, partition), 0) + 1
    for (topic, partition), (first, last) in ranges.items():
        counts[topic] += max(last - first - handled.get((topic, partition), 0), 0)
    return counts


def list_dead_letters(settings: Settings, dlq_topic: str | None = None, include_handled: bool = False,
                      limit: int = 100) -> list[DeadLetter]:
    """The dead letters of one DLQ topic (or of every one), oldest offset first per partition, the
    unhandled ones only unless ``include_handled``; at most ``limit``."""
    topics = [dlq_topic] if dlq_topic else dlq_topics()
    found: list[DeadLetter] = []
    with _consumer(settings) as consumer:
        tps = [tp for topic in topics for tp in _partitions(consumer, topic)]
        if not tps:
            return []
        begin = consumer.beginning_offsets(tps)
        end = consumer.end_offsets(tps)
        busy = [tp for tp in tps if end[tp] > begin[tp]]
        if not busy:
            return []
        in_force = _marks(settings, consumer)
        for tp in busy:
            start = begin[tp]
            if not include_handled:  # skip the handled letters at the head without reading them
                while start < end[tp] and letter_ref(tp.topic, tp.partition, start) in in_force:
                    start += 1
            for record in _read(consumer, tp, start, end[tp]):
                letter = _letter(record, in_force)
                if letter.action is None or include_handled:
                    found.append(letter)
                    if len(found) >= limit:
                        return found
    return found


def inspect(settings: Settings, dlq_topic: str, partition: int, offset: int) -> DeadLetter:
    """The dead letter at ``dlq_topic`` [``partition``] @ ``offset``, with its mark if any."""
    from kafka import TopicPartition

    with _consumer(settings) as consumer:
        partitions = consumer.partitions_for_topic(dlq_topic)
        if not partitions:
            raise DeadLetterNotFound(f"no topic {dlq_topic}")
        if partition not in partitions:
            raise DeadLetterNotFound(f"{dlq_topic} has no partition {partition}")
        tp = TopicPartition(dlq_topic, partition)
        begin = consumer.beginning_offsets([tp])[tp]
        end = consumer.end_offsets([tp])[tp]
        if not begin <= offset < end:
            raise DeadLetterNotFound(f"no dead letter at {letter_ref(dlq_topic, partition, offset)} "
                                     f"(the partition holds offsets {begin}..{end - 1})" if end > begin else
                                     f"no dead letter at {letter_ref(dlq_topic, partition, offset)} (the partition is empty)")
        in_force = _marks(settings, consumer)
        for record in _read(consumer, tp, offset, offset + 1):
            return _letter(record, in_force)
    raise DeadLetterNotFound(f"no dead letter at {letter_ref(dlq_topic, partition, offset)}")


# ---------------------------------------------------------------------------------------------- writing

@contextmanager
def _producer(settings: Settings) -> Iterator[Any]:
    from kafka import KafkaProducer

    from shared.kafka_admin import client_options

    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, client_id=CLIENT_ID, acks="all",
                             max_request_size=2 * 1024 * 1024, **client_options(settings))
    try:
        yield producer
    finally:
        producer.close(timeout=10)


def ensure_actions_topic(settings: Settings) -> bool:
    """Create the actions topic (compacted, one partition) if it is missing; True if created. Needs
    a principal that may create topics (the admin); others get the broker's refusal."""
    from shared.kafka_admin import ensure_topics

    with _consumer(settings) as consumer:
        if consumer.partitions_for_topic(DEAD_LETTER_ACTIONS):
            return False
    return DEAD_LETTER_ACTIONS in ensure_topics(settings=settings, timeout_s=30)


def _now() -> str:
    return datetime.now(CHINA).isoformat(timespec="seconds")


def _write_mark(settings: Settings, letter: DeadLetter, action: str, by: str, note: str) -> Mark:
    ensure_actions_topic(settings)
    mark = Mark(action, by, note, _now(), letter.original_topic)
    with _producer(settings) as producer:
        producer.send(DEAD_LETTER_ACTIONS, key=letter.ref.encode(), value=json.dumps(mark.as_dict(), ensure_ascii=False).encode(),
                      headers=[("content-type", b"application/json")]).get(timeout=30)
    return mark


def _check(action: str, by: str) -> None:
    if action not in ACTIONS:
        raise DeadLetterError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if not by.strip():
        raise DeadLetterError("say who you are (by)")


def mark(settings: Settings, dlq_topic: str, partition: int, offset: int, action: Action, by: str, note: str = "") -> Mark:
    """Record that ``by`` dealt with the letter (``replayed`` or ``discarded``), with a note. A letter
    that is missing or already marked is refused."""
    _check(action, by)
    letter = inspect(settings, dlq_topic, partition, offset)
    if letter.action is not None:
        raise AlreadyHandled(f"{letter.ref} was already {letter.action.action} by {letter.action.by} at {letter.action.at}")
    return _write_mark(settings, letter, action, by.strip(), note)


def discard(settings: Settings, dlq_topic: str, partition: int, offset: int, by: str, reason: str) -> Mark:
    """Mark the letter discarded, saying why."""
    if not reason.strip():
        raise DeadLetterError("say why the letter is discarded (reason)")
    return mark(settings, dlq_topic, partition, offset, "discarded", by, reason.strip())


@dataclass(frozen=True)
class Replayed:
    letter: DeadLetter
    mark: Mark
    topic: str  # where it went: the original topic
    partition: int
    offset: int


def replay(settings: Settings, dlq_topic: str, partition: int, offset: int, by: str, payload: bytes | None = None,
           note: str = "") -> Replayed:
    """Publish the letter's bytes (or ``payload``) back to its original topic, with its key and its
    headers other than ``x-dlq-*`` plus ``x-replayed-from``, then mark it replayed.

    Refused: a letter already handled, one whose key was cut, one whose body was cut unless a
    ``payload`` replaces it. A crash between the publish and the mark lets a second replay publish
    it again, which the consumers' inbox (``event_id``) makes harmless."""
    _check("replayed", by)
    letter = inspect(settings, dlq_topic, partition, offset)
    if letter.action is not None:
        raise AlreadyHandled(f"{letter.ref} was already {letter.action.action} by {letter.action.by} at {letter.action.at}")
    if letter.key_truncated:
        raise ReplayRefused(f"{letter.ref}: its key was cut in the dead letter; the record cannot be put back in its order")
    if letter.body_truncated and payload is None:
        raise ReplayRefused(f"{letter.ref}: its body was cut in the dead letter ({letter.headers.get('x-dlq-body-size')} bytes "
                            f"originally, at {letter.original_topic}[{letter.original_partition}]@{letter.original_offset}); "
                            "give the full payload")
    if not letter.original_topic or letter.original_topic == letter.dlq_topic:
        raise ReplayRefused(f"{letter.ref}: its original topic is unknown")
    headers = [(k, v) for k, v in letter.raw_headers if not k.startswith(DLQ_HEADER_PREFIX) and k != REPLAYED_FROM_HEADER]
    if not any(k == "content-type" for k, _ in headers):
        headers.append(("content-type", content_type(letter.original_topic).encode()))
    headers.append((REPLAYED_FROM_HEADER, letter.ref.encode()))
    body = letter.value if payload is None else payload
    with _producer(settings) as producer:
        sent = producer.send(letter.original_topic, key=letter.key, value=body, headers=headers).get(timeout=30)
    what = note or ("with a fixed payload" if payload is not None else "")
    written = _write_mark(settings, letter, "replayed", by.strip(), what)
    return Replayed(letter, written, sent.topic, sent.partition, sent.offset)
