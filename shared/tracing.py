"""Tracing: OpenTelemetry spans, with the W3C trace context carried across HTTP and Kafka.

One report's journey is one trace: the assessment service's HTTP request (a SERVER span, made by
FastAPI's own telemetry once a tracer provider is set: ``shared.runtime.create_app``), the events it
writes to the outbox (the unit of work stores the current ``traceparent``/``tracestate`` in the row's
``headers``, the relay publishes them as Kafka headers), and every consumer that applies them (a
CONSUMER span "<topic> process", child of the producer's context, in ``shared.messaging``), whose own
outbox rows carry the same trace onward.

``setup_tracing`` runs once per process (``shared.runtime.serve``). Spans always exist, so the context
propagates and the logs carry trace ids (``shared.logs``); they are exported (OTLP over HTTP, in
batches) only when ``OHS_OTLP_ENDPOINT`` is set, e.g. ``http://collector:4318``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

TRACE_HEADERS = ("traceparent", "tracestate")
TRACER_NAME = "ohs"
_PROPAGATOR = TraceContextTextMapPropagator()
_provider: Any = None  # the process's TracerProvider, once set up


def setup_tracing(settings: Any) -> Any:
    """Install the process's TracerProvider (resource ``service.name=ohs-<service>``), once; with
    ``settings.otlp_endpoint`` its spans are exported there over OTLP/HTTP. Returns the provider."""
    global _provider
    if _provider is not None:
        return _provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    attributes = {"service.name": f"ohs-{settings.service_name}", "service.namespace": "ohs"}
    version = getattr(settings, "build_version", None)
    if version:
        attributes["service.version"] = version
    provider = TracerProvider(resource=Resource.create(attributes))
    endpoint = getattr(settings, "otlp_endpoint", None)
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(endpoint))))
        log.info("exporting traces to %s", traces_url(endpoint))
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(_PROPAGATOR)  # W3C TraceContext only: no baggage crosses the services
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    """Export what is buffered (at shutdown)."""
    if _provider is not None:
        try:
            _provider.shutdown()
        except Exception:  # noqa: BLE001 - the collector may be gone; a process stopping does not wait for it
            log.warning("could not export the last spans")


def traces_url(endpoint: str) -> str:
    """OHS_OTLP_ENDPOINT is the collector's base URL (…:4318); a URL already naming /v1/traces is kept."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


# --- carrying the context ------------------------------------------------------------------------------


def current_headers() -> dict[str, str]:
    """The current context as W3C headers (``traceparent``, maybe ``tracestate``); empty without a valid span."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        _PROPAGATOR.inject(carrier)
    return carrier


def current_headers_json() -> str | None:
    """What the unit of work stores in an outbox row's ``headers`` column: a JSON object, or None."""
    headers = current_headers()
    return json.dumps(headers, separators=(",", ":")) if headers else None


def outbox_headers(stored: str | None) -> dict[str, str]:
    """An outbox row's ``headers`` column back as Kafka headers (only the trace context is taken)."""
    if not stored:
        return {}
    try:
        value = json.loads(stored)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {name: str(value[name]) for name in TRACE_HEADERS if value.get(name)}


def record_trace_headers(headers: Iterable[tuple[str, bytes | str | None]] | None) -> dict[str, str]:
    """The trace context headers among a Kafka record's headers (a list of (name, bytes))."""
    found: dict[str, str] = {}
    for name, value in headers or ():
        if name in TRACE_HEADERS and value is not None:
            found[name] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return found


class _DictGetter(Getter[Mapping[str, str]]):
    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key)
        return [value] if value is not None else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier)


_GETTER = _DictGetter()


def extract(headers: Mapping[str, str] | Iterable[tuple[str, bytes | str | None]] | None) -> otel_context.Context:
    """The context a producer sent: from a dict of headers, or a Kafka record's list of (name, bytes).
    Without a (valid) ``traceparent`` it is an empty context: the span started in it begins a new trace."""
    carrier = headers if isinstance(headers, Mapping) else record_trace_headers(headers)
    return _PROPAGATOR.extract(carrier, context=otel_context.Context(), getter=_GETTER)


def consumer_span(record: Any, *, topic: str, group: str, event_id: str | None = None, event_type: str | None = None) -> Span:
    """A CONSUMER span "<topic> process" for one Kafka record, child of the context its producer sent.
    Not made current: the caller uses ``trace.use_span(span)`` around the handler."""
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": group,
    }
    partition, offset = getattr(record, "partition", None), getattr(record, "offset", None)
    if partition is not None:
        attributes["messaging.destination.partition.id"] = str(partition)
    if offset is not None:
        attributes["messaging.kafka.offset"] = offset
    if event_id:
        attributes["messaging.message.id"] = event_id
    if event_type:
        attributes["ohs.event.type"] = event_type
    parent = extract(getattr(record, "headers", None)) if record is not None else otel_context.Context()
    return tracer().start_span(f"{topic} process", context=parent, kind=SpanKind.CONSUMER, attributes=attributes)


def trace_ids(span: Span | None = None) -> tuple[str, str] | None:
    """(trace id, span id) in hex of ``span`` (default: the current one), or None when it is not valid."""
    context = (span or trace.get_current_span()).get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


# --- HTTP ----------------------------------------------------------------------------------------------
# The SERVER span of each request ("POST /reports", continuing an incoming traceparent) is FastAPI's own
# telemetry, on as soon as setup_tracing has set a tracer provider; create_app configures it with these.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: every few seconds, no story


def fastapi_telemetry() -> dict[str, Any]:
    """``FastAPI(telemetry=…)``: spans for requests (not for probes and scrapes), without FastAPI's inner
    operation spans (dependencies, serialization): one SERVER span per request."""
    return {"tracing": True, "metrics": False, "logs": False, "operation_spans": False,
            "exclude": lambda scope: scope.get("path") in UNTRACED_PATHS}


class TraceparentResponse:
    """ASGI middleware: the response carries the request's ``traceparent``, so a client (or an operator
    with curl -i) knows the trace id of what it just did (the report it submitted)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_traceparent(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = current_headers()
                if "traceparent" in headers:
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"traceparent", headers["traceparent"].encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_traceparent)
