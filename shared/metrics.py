"""Prometheus metrics, one registry per service process (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.domain_metrics import DomainCounters

# end-to-end delay of one hop, from the record's broker timestamp to its handling committed: seconds, not ms
DELAY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class ServiceMetrics:
    def __init__(self, service: str, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.service = service
        self.domain = DomainCounters(service, self.registry)  # what the service decided (shared/domain_metrics.py)
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
            "Messages behind the partition's end, per consumer group: the broker's log end minus the group's committed "
            "offset, measured every OHS_LAG_INTERVAL_S (shared/lag.py), so a consumer that stopped shows a growing lag.",
            ["topic", "group", "partition"],
            registry=self.registry,
        )
        self.lag_probe_last_success = Gauge(
            "ohs_lag_probe_last_success_timestamp_seconds", "When the broker last answered the lag probe (Unix time).",
            registry=self.registry,
        )
        self.event_delay = Histogram(
            "ohs_event_delay_seconds",
            "Delay of one hop: from the record's broker timestamp to its handling committed, per consumer group.",
            ["topic", "group"], buckets=DELAY_BUCKETS, registry=self.registry,
        )
        self.dead_letters_unhandled = Gauge(
            "ohs_dead_letters_unhandled",
            "Dead letters in <topic>.dlq that no operator has replayed or discarded yet (`ohs ops dlq`), for the dead-letter "
            "topics of what this service consumes: several services may report the same topic (use max by (topic)).",
            ["topic"], registry=self.registry,
        )
        self.ready = Gauge("ohs_ready", "1 when the last readiness check (GET /readyz) passed, else 0.", registry=self.registry)
        self.build_info = Gauge(
            "ohs_build_info", "What is running: always 1, the facts in the labels.", ["service", "version", "commit", "python"],
            registry=self.registry,
        )
        self.job_last_success = Gauge(
            "ohs_job_last_success_timestamp_seconds", "When a periodic job (a daily sweep, the delivery run) last succeeded.",
            ["task"], registry=self.registry,
        )
        # `task`, not `job`: Prometheus's own `job` label is the service (the scrape job)
        self.job_runs = Counter("ohs_job_runs_total", "Runs of periodic jobs, by outcome (ok, failed).", ["task", "outcome"], registry=self.registry)
        self.http_requests = Counter(
            "ohs_http_requests_total", "HTTP requests answered.", ["method", "route", "status"], registry=self.registry
        )
        self.http_seconds = Histogram(
            "ohs_http_request_seconds", "HTTP request latency.", ["method", "route"], registry=self.registry
        )
