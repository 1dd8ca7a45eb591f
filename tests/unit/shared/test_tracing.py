"""Tracing across the outbox and Kafka, and the log lines that carry it (shared/tracing.py, shared/logs.py).

The trace context of a unit of work goes into its outbox rows, the relay publishes it as Kafka headers,
and the consumer handles each record in a span that continues it: the handler's span and the event it
writes share the producer's trace id. Log lines carry the current trace id, and the consumer's line
for a record cuts the credit code."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from pathlib import Path
from types import SimpleNamespace
from uuid import uuid4

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlmodel import Session, select

from shared import tracing
from shared.contracts import ReportRejected
from shared.db import OutboxMessage, create_tables, make_engine
from shared.logs import JsonFormatter, TextFormatter, configure_logging, handled, loggable_key
from shared.messaging import OutboxRelay
from shared.metrics import ServiceMetrics
from shared.runtime import build_runtime
from shared.settings import settings_for
from shared.unit_of_work import AbstractUnitOfWork, SqlUnitOfWork

TOPIC = "unit.traced-events"
CREDIT_CODE = "91141029MA0GRT8U3L"
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    """The process's tracer provider (set up once, as serve() does), with an exporter the tests read."""
    provider = tracing.setup_tracing(settings_for("registry"))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def rejected(reason: str = "ok") -> ReportRejected:
    return ReportRejected(producer="unit", credit_code=CREDIT_CODE, submission_id=uuid4(), reasons=[reason])


def trace_id_of(traceparent: str) -> str:
    match = TRACEPARENT.fullmatch(traceparent)
    assert match, traceparent
    return match.group(1)


def hex_trace_id(span: ReadableSpan) -> str:
    return format(span.context.trace_id, "032x")


class Broker:
    """Publishes like a producer, keeping each record's headers."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, dict[str, str]]] = []

    async def publish(self, payload: bytes, *, topic: str, key: bytes, headers: dict[str, str], no_confirm: bool = False):
        self.published.append((topic, payload, headers))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_the_unit_of_work_stores_the_current_context_and_the_relay_publishes_it(tmp_path: Path, spans: InMemorySpanExporter) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    create_tables(engine, [])
    with tracing.tracer().start_as_current_span("POST /reports", kind=SpanKind.SERVER) as request:
        with SqlUnitOfWork(engine) as uow:
            uow.publish(rejected("in a trace"))
            uow.commit()
    with SqlUnitOfWork(engine) as uow:  # outside any span: no headers
        uow.publish(rejected("no trace"))
        uow.commit()
    with Session(engine) as session:
        traced, untraced = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert untraced.headers is None
    stored = json.loads(traced.headers)
    assert trace_id_of(stored["traceparent"]) == format(request.get_span_context().trace_id, "032x")

    broker = Broker()
    assert await OutboxRelay(engine, broker, ServiceMetrics("test")).flush() == 2  # type: ignore[arg-type]
    (_, _, first), (_, _, second) = broker.published
    assert first["traceparent"] == stored["traceparent"] and first["content-type"].startswith("application/json")
    assert "traceparent" not in second


async def test_a_consumed_event_is_handled_in_a_child_span_and_what_it_publishes_continues_the_trace(
        tmp_path: Path, spans: InMemorySpanExporter) -> None:
    """One by one (the in-memory broker delivers batches of one): the record's traceparent → a CONSUMER span,
    its child → the handler's outbox row and the record the relay publishes → the same trace id."""
    runtime = build_runtime(settings_for("registry", data_dir=tmp_path, consumer_retry_backoff_s=0), create_topics=False)
    create_tables(runtime.engine, [])
    in_handler: list[str] = []
    produced_headers: list[dict[str, str]] = []

    def handle(uow: AbstractUnitOfWork, event: ReportRejected) -> None:
        in_handler.append(format(trace.get_current_span().get_span_context().trace_id, "032x"))
        uow.publish(rejected("produced"))

    runtime.consumer.subscribe(TOPIC, ReportRejected, handle)

    @runtime.broker.subscriber(ReportRejected.topic)
    async def produced(body: ReportRejected, msg: KafkaMessage) -> None:
        produced_headers.append(dict(msg.headers))

    with tracing.tracer().start_as_current_span("producer") as producer:
        upstream = tracing.current_headers()
    trace_id = format(producer.get_span_context().trace_id, "032x")
    spans.clear()
    event = rejected("consume me")
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(event.model_dump_json().encode(), topic=TOPIC, key=CREDIT_CODE.encode(), headers=upstream)

    assert in_handler == [trace_id]
    [consumer] = [s for s in spans.get_finished_spans() if s.name == f"{TOPIC} process"]
    assert consumer.kind == SpanKind.CONSUMER and hex_trace_id(consumer) == trace_id
    assert consumer.parent is not None and consumer.parent.span_id == producer.get_span_context().span_id
    assert consumer.attributes["messaging.system"] == "kafka"
    assert consumer.attributes["messaging.destination.name"] == TOPIC
    assert consumer.attributes["messaging.consumer.group.name"] == "ohs.registry"
    assert consumer.attributes["messaging.message.id"] == str(event.event_id)
    assert "messaging.kafka.offset" in consumer.attributes and "messaging.destination.partition.id" in consumer.attributes
    [headers] = produced_headers
    assert trace_id_of(headers["traceparent"]) == trace_id
    with Session(runtime.engine) as session:
        [row] = session.exec(select(OutboxMessage)).all()
    assert trace_id_of(json.loads(row.headers)["traceparent"]) == trace_id


async def test_a_dead_letter_keeps_the_trace_and_every_outcome_logs_one_line(tmp_path: Path, spans: InMemorySpanExporter) -> None:
    runtime = build_runtime(settings_for("registry", data_dir=tmp_path, consumer_max_attempts=2, consumer_retry_backoff_s=0),
                            create_topics=False)
    create_tables(runtime.engine, [])

    def handle(uow: AbstractUnitOfWork, event: ReportRejected) -> None:
        if event.reasons == ["poison"]:
            raise RuntimeError("always fails")

    runtime.consumer.subscribe(TOPIC, ReportRejected, handle)
    letters: list[dict[str, str]] = []

    async def _raw(message: KafkaMessage) -> bytes:  # a dead letter's body may be anything
        return message.body

    @runtime.broker.subscriber(f"{TOPIC}.dlq", decoder=_raw)
    async def collect(body: bytes, msg: KafkaMessage) -> None:
        letters.append(dict(msg.headers))

    with tracing.tracer().start_as_current_span("producer") as producer:
        upstream = tracing.current_headers()
    trace_id = format(producer.get_span_context().trace_id, "032x")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("registry"))
    logger = logging.getLogger("ohs.consumer")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    good = rejected("fine")
    try:
        async with TestKafkaBroker(runtime.broker) as broker:
            for event in (good, good, rejected("poison")):  # the good one twice: processed, then duplicate
                await broker.publish(event.model_dump_json().encode(), topic=TOPIC, key=CREDIT_CODE.encode(), headers=upstream)
            await broker.publish(b"{not json", topic=TOPIC, key=b"140100", headers=upstream)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)

    assert [trace_id_of(letter["traceparent"]) for letter in letters] == [trace_id, trace_id]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["outcome"], line["credit_code"]) for line in lines] == [
        ("processed", "91141029…"), ("duplicate", "91141029…"), ("dead_lettered", "91141029…"), ("dead_lettered", "140100")]
    assert {line["trace_id"] for line in lines} == {trace_id}
    assert lines[0]["event_id"] == str(good.event_id) and lines[3]["event_id"] is None
    failed = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER and not s.status.is_ok]
    assert len(failed) >= 3  # two failed attempts and the dead letter of the poison, the malformed record's


def test_a_batch_handles_each_record_in_its_own_producers_trace(tmp_path: Path, spans: InMemorySpanExporter) -> None:
    runtime = build_runtime(settings_for("registry", data_dir=tmp_path), create_topics=False)
    create_tables(runtime.engine, [])
    seen_in_handler: dict[str, str] = {}

    def handle(uow: AbstractUnitOfWork, event: ReportRejected) -> None:
        seen_in_handler[event.reasons[0]] = format(trace.get_current_span().get_span_context().trace_id, "032x")
        uow.publish(rejected(f"after {event.reasons[0]}"))

    runtime.consumer.subscribe(TOPIC, ReportRejected, handle)
    [subscription] = runtime.consumer.subscriptions
    producers, records, events = [], [], []
    for n in range(3):
        with tracing.tracer().start_as_current_span(f"producer {n}") as producer:
            headers = [(name, value.encode()) for name, value in tracing.current_headers().items()]
        producers.append(format(producer.get_span_context().trace_id, "032x"))
        records.append(SimpleNamespace(topic=TOPIC, partition=n, offset=10 + n, key=CREDIT_CODE.encode(), headers=headers))
        events.append(rejected(f"event {n}"))
    events.append(events[0])  # delivered twice in one batch: a duplicate, still in its producer's trace
    records.append(SimpleNamespace(topic=TOPIC, partition=0, offset=13, key=CREDIT_CODE.encode(), headers=records[0].headers))
    spans.clear()

    assert runtime.consumer._apply_batch(subscription, events, records) == (3, 1)

    assert seen_in_handler == {f"event {n}": producers[n] for n in range(3)}
    consumer_spans = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert [hex_trace_id(s) for s in consumer_spans] == [*producers, producers[0]]
    with Session(runtime.engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [trace_id_of(json.loads(r.headers)["traceparent"]) for r in rows] == producers


def test_a_record_without_a_traceparent_starts_a_trace_of_its_own(spans: InMemorySpanExporter) -> None:
    record = SimpleNamespace(topic=TOPIC, partition=0, offset=1, key=b"x", headers=[("content-type", b"application/json")])
    span = tracing.consumer_span(record, topic=TOPIC, group="g")
    assert span.get_span_context().is_valid and span.parent is None
    span.end()
    assert tracing.extract([("traceparent", b"not a traceparent")]) is not None  # garbage is ignored, not raised


def test_a_json_log_line_carries_the_trace_and_the_extra_fields(spans: InMemorySpanExporter) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("registry"))
    logger = logging.getLogger("ohs.consumer")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        record = SimpleNamespace(topic=TOPIC, partition=4, offset=1234, key=CREDIT_CODE.encode())
        with tracing.tracer().start_as_current_span("ohs.reports.submitted process") as span:
            handled(record, topic=TOPIC, group="ohs.registry", outcome="processed", event_id="e-1", event_type="ReportRejected")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("ohs.consumer").exception("failed, outside any span", extra={"attempt": 2})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", first["ts"])
    assert first["level"] == "INFO" and first["service"] == "registry" and first["logger"] == "ohs.consumer"
    assert first["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert first["span_id"] == format(span.get_span_context().span_id, "016x")
    assert {k: first[k] for k in ("event_id", "event_type", "topic", "partition", "offset", "group", "outcome", "credit_code")} == {
        "event_id": "e-1", "event_type": "ReportRejected", "topic": TOPIC, "partition": 4, "offset": 1234,
        "group": "ohs.registry", "outcome": "processed", "credit_code": "91141029…",
    }
    assert CREDIT_CODE not in stream.getvalue()
    assert "trace_id" not in second and second["attempt"] == 2 and "ValueError: boom" in second["exc"]


def test_the_text_format_appends_the_trace_id_when_there_is_one(spans: InMemorySpanExporter) -> None:
    formatter = TextFormatter("penalty")
    record = logging.LogRecord("ohs.x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    assert formatter.format(record).endswith(" penalty INFO ohs.x: hello world")
    with tracing.tracer().start_as_current_span("s") as span:
        assert formatter.format(record).endswith(f"hello world trace_id={span.get_span_context().trace_id:032x}")


def test_configure_logging_follows_the_settings_format() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        handler = configure_logging(settings_for("sampling", log_format="text"), stream=io.StringIO())
        assert isinstance(handler.formatter, TextFormatter)
        handler = configure_logging(settings_for("sampling"), stream=io.StringIO())
        assert isinstance(handler.formatter, JsonFormatter)
        assert root.handlers == [handler]
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in handlers:
            root.addHandler(h)
        root.setLevel(level)


@pytest.mark.parametrize(("key", "logged"), [
    (CREDIT_CODE.encode(), "91141029…"),
    (CREDIT_CODE, "91141029…"),
    (b"140100", "140100"),  # a region code is no one's identity: kept whole
    (b"short", "short"),
    (None, None),
])
def test_the_credit_code_is_cut_in_the_logs(key: bytes | str | None, logged: str | None) -> None:
    assert loggable_key(key) == logged


def test_otlp_endpoint_becomes_the_traces_url() -> None:
    assert tracing.traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert tracing.traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert tracing.traces_url("http://collector:4318/v1/traces") == "http://collector:4318/v1/traces"
    assert tracing.outbox_headers('{"traceparent": "00-a-b-01", "other": "x"}') == {"traceparent": "00-a-b-01"}
    assert tracing.outbox_headers("not json") == {} and tracing.outbox_headers(None) == {}


def test_a_request_gets_a_server_span_continuing_the_callers_trace_and_names_it_in_the_answer(
        tmp_path: Path, spans: InMemorySpanExporter) -> None:
    from fastapi.testclient import TestClient

    from shared.runtime import create_app

    runtime = build_runtime(settings_for("registry", data_dir=tmp_path), create_topics=False)
    app = create_app(runtime, "test", "test")

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"thing": thing_id}

    client = TestClient(app)  # no lifespan: nothing to start
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    spans.clear()
    answer = client.get("/things/7", headers={"traceparent": caller})
    assert answer.status_code == 200
    assert trace_id_of(answer.headers["traceparent"]) == "0af7651916cd43dd8448eb211c80319c"
    [server] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert server.name == "GET /things/{thing_id}" and hex_trace_id(server) == "0af7651916cd43dd8448eb211c80319c"
    assert server.parent is not None and format(server.parent.span_id, "016x") == "b7ad6b7169203331"
    fresh = client.get("/things/8")  # no caller's trace: a new one, named in the answer all the same
    assert trace_id_of(fresh.headers["traceparent"]) != "0af7651916cd43dd8448eb211c80319c"
    spans.clear()
    assert client.get("/healthz").status_code == 200 and client.get("/metrics").status_code == 200
    assert [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER] == []  # probes and scrapes are not traced
