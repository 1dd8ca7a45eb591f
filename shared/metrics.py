"""Prometheus metrics, one registry per service process (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServiceMetrics:
    def __init__(self, service: str, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.service = service
        self.events_consumed = Counter(
            "ohs_events_consumed_total",
            "Events taken from Kafka, by consumer group and outcome: processed, duplicate (already applied), retried, dead_lettered.",
            ["topic", "group", "outcome"],
            registry=self.registry,
        )
        self.consume_seconds = Histogram(
            "ohs_event_handling_seconds", "Time from receiving an event to acknowledging it.", ["topic", "group"], registry=self.registry
        )
        self.dead_lettered = Counter(
            "ohs_events_dead_lettered_total", "Events sent to <topic>.dlq, by the consumer group that gave up.", ["topic", "group"], registry=self.registry
        )
        self.events_published = Counter(
            "ohs_events_published_total", "Events published from the outbox.", ["topic"], registry=self.registry
        )
        self.outbox_pending = Gauge(
            "ohs_outbox_pending_events", "Events committed to the outbox but not yet published.", registry=self.registry
        )
        self.outbox_set_aside = Gauge(
            "ohs_outbox_set_aside_events",
            "Outbox rows the broker refused for good (e.g. too large), set aside so the rest flows: each needs an operator.",
            registry=self.registry,
        )
        self.outbox_set_aside_total = Counter(
            "ohs_outbox_set_aside", "Outbox rows set aside since start, by topic.", ["topic"], registry=self.registry
        )
        self.outbox_oldest_pending_age = Gauge(
            "ohs_outbox_oldest_pending_age_seconds", "Age of the oldest outbox row not yet published (0 when none).",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "ohs_consumer_lag_messages",
            "Messages behind the partition's end after the last one handled, per consumer group.",
            ["topic", "group", "partition"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "ohs_http_requests_total", "HTTP requests answered.", ["method", "route", "status"], registry=self.registry
        )
        self.http_seconds = Histogram(
            "ohs_http_request_seconds", "HTTP request latency.", ["method", "route"], registry=self.registry
        )
