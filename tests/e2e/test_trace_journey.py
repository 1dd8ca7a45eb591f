"""One report's journey is one trace: the services as processes export their spans over OTLP/HTTP to a
receiver in this test, and the Kafka records of every hop carry the trace's ``traceparent``.

assessment: POST /reports (SERVER) → ohs.reports.submitted → classify (CONSUMER) → ohs.assessments.classified
→ registry: archive (CONSUMER) → ohs.registry.classification-changed → sampling: pool (CONSUMER); and penalty:
screening of ohs.assessments.classified (CONSUMER). The consumer's JSON log line for a record carries the
trace id, topic, partition, offset and a cut credit code."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from shared import topics
from tests.conftest import free_port
from tests.e2e.conftest import SERVICES, running_services
from tests.support import auth, eventually_get, eventually_sync, new_credit_code, read_topic, report_for

pytestmark = pytest.mark.e2e

COUNTY = auth("county")
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    attributes: dict


class Collector:
    """An OTLP/HTTP trace receiver: POST /v1/traces with an ExportTraceServiceRequest (protobuf)."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.lock = threading.Lock()

    def receive(self, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        request = ExportTraceServiceRequest.FromString(body)
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {}
                    for a in span.attributes:
                        value = a.value
                        attributes[a.key] = value.string_value if value.HasField("string_value") else value.int_value
                    received.append(ReceivedSpan(resource.get("service.name", ""), span.trace_id.hex(), span.span_id.hex(),
                                                 span.parent_span_id.hex(), span.name, span.kind, attributes))
        with self.lock:
            self.spans.extend(received)

    def of_trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]


@pytest.fixture(scope="module")
def collector() -> Iterator[tuple[Collector, str]]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    received = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != "/v1/traces":
                self.send_response(404)
                self.end_headers()
                return
            received.receive(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def trace_id_of(headers: list[tuple[str, bytes]] | None) -> str | None:
    for name, value in headers or ():
        if name == "traceparent" and (match := TRACEPARENT.fullmatch(value.decode())):
            return match.group(1)
    return None


def test_one_report_is_one_trace_across_the_services_and_their_kafka_records(kafka_bootstrap, mailbox, collector) -> None:
    received, endpoint = collector
    env = {"OHS_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "300", "OHS_LOG_FORMAT": "json"}
    with running_services(SERVICES, kafka_bootstrap, mailbox, extra_env=env) as (urls, _, data):
        code = new_credit_code()
        report = report_for(code)
        response = httpx.post(f"{urls['assessment']}/reports", json=report, timeout=10, headers=COUNTY)
        assert response.status_code == 202, response.text
        match = TRACEPARENT.fullmatch(response.headers["traceparent"])  # the answer names its trace
        assert match, response.headers
        trace_id = match.group(1)

        eventually_get(f"{urls['registry']}/enterprises/{code}", lambda r: r.status_code == 200, headers=COUNTY, timeout=60)
        eventually_get(f"{urls['sampling']}/pools/141029", lambda r: code in [m["credit_code"] for m in r.json()["members"]["丙"]],
                       headers=COUNTY, timeout=60)

        wanted = {
            ("ohs-assessment", "POST /reports"),
            ("ohs-assessment", f"{topics.REPORTS_SUBMITTED} process"),
            ("ohs-registry", f"{topics.ASSESSMENTS_CLASSIFIED} process"),
            ("ohs-sampling", f"{topics.CLASSIFICATION_CHANGED} process"),
            ("ohs-penalty", f"{topics.ASSESSMENTS_CLASSIFIED} process"),
        }

        def missing() -> set[tuple[str, str]]:
            return wanted - {(s.service, s.name) for s in received.of_trace(trace_id)}

        eventually_sync(missing, 30, "the journey's spans exported", ready=lambda left: not left,
                        describe=lambda left: f"missing {sorted(left)}; got {sorted({(s.service, s.name) for s in received.of_trace(trace_id)})}")
        # the journey goes on (screening, rectification items, notifications): wait until every consumer span received
        # so far has its parent among the spans received — a parent is exported a batch later than its child at times
        def orphans(spans: list) -> list[str]:
            ids = {s.span_id for s in spans}
            return [f"{s.service} {s.name}" for s in spans if s.name.endswith(" process") and s.parent_span_id not in ids]

        spans = eventually_sync(lambda: list(received.of_trace(trace_id)), 30, "every consumer span's parent exported",
                                ready=lambda spans: not orphans(spans),
                                describe=lambda spans: f"spans whose parent is not (yet) in the trace: {orphans(spans)}")
        by_id = {s.span_id: s for s in spans}
        [request] = [s for s in spans if s.name == "POST /reports"]
        assert request.kind == 2 and request.parent_span_id == "", "SPAN_KIND_SERVER, the trace's root"  # OTLP enum: SERVER=2
        consumers = [s for s in spans if s.name.endswith(" process")]
        for span in consumers:
            assert span.kind == 5, span  # SPAN_KIND_CONSUMER
            assert span.parent_span_id in by_id, f"{span.service} {span.name}: its parent is a span of the same trace"
            assert span.attributes["messaging.system"] == "kafka"
            assert {"messaging.destination.partition.id", "messaging.kafka.offset", "messaging.consumer.group.name",
                    "messaging.message.id"} <= set(span.attributes)
        [classify] = [s for s in consumers if s.name == f"{topics.REPORTS_SUBMITTED} process"]
        assert classify.parent_span_id == request.span_id  # the request wrote the event the classification handled
        registry = [s for s in consumers if s.service == "ohs-registry" and s.name == f"{topics.ASSESSMENTS_CLASSIFIED} process"]
        assert all(s.parent_span_id == classify.span_id for s in registry)  # the archive, and the portrait in a group of its own
        [archive] = [s for s in registry if s.attributes["messaging.consumer.group.name"].endswith(".registry")]
        [pool] = [s for s in consumers if s.service == "ohs-sampling" and s.name == f"{topics.CLASSIFICATION_CHANGED} process"]
        assert by_id[pool.parent_span_id] == archive  # the archive published the change the pool applied

        # every hop's record of this employer carries the trace
        for topic in (topics.REPORTS_SUBMITTED, topics.ASSESSMENTS_CLASSIFIED, topics.CLASSIFICATION_CHANGED):
            records = asyncio.run(read_topic(kafka_bootstrap, topic, lambda rs: any(r.key == code.encode() for r in rs), timeout=30))
            ours = [r for r in records if r.key == code.encode()]
            assert ours and all(trace_id_of(r.headers) == trace_id for r in ours), (topic, [r.headers for r in ours])

        # the registry's log line for the classified record it archived
        def archived_line() -> dict | None:
            for line in (data / "registry.log").read_text(encoding="utf-8").splitlines():
                if not line.startswith("{"):
                    continue
                entry = json.loads(line)
                if (entry.get("logger") == "ohs.consumer" and entry.get("trace_id") == trace_id
                        and entry.get("topic") == topics.ASSESSMENTS_CLASSIFIED and entry.get("group", "").endswith(".registry")):
                    return entry
            return None

        entry = eventually_sync(archived_line, 10, "the registry's log line for the record", ready=lambda e: e is not None)
        assert entry["outcome"] == "processed" and entry["service"] == "registry" and entry["level"] == "INFO"
        assert isinstance(entry["partition"], int) and isinstance(entry["offset"], int)
        assert entry["credit_code"] == code[:8] + "…" and entry["event_type"] == "AssessmentClassified"
        assert entry["span_id"] == archive.span_id and entry["event_id"] == archive.attributes["messaging.message.id"]
        assert code not in json.dumps(entry, ensure_ascii=False)  # the credit code is cut in the logs
