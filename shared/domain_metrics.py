"""What the platform decided, as Prometheus counters: counted by the service that announces it, when the
outbox relay has the announcement acknowledged by the broker (so a counter moves once per event published,
whatever the handler or route that produced it).

Labels are low-cardinality only: a county code (a province has about a hundred), a category, an outcome, a
reason's message code, a CloudEvents type — never a credit code or an id. A service counts only the topics it
produces (``shared.topics.TOPICS``), so each figure has one source; labelled series whose values are known in
advance start at 0, so a dashboard shows 0 rather than nothing before the first event.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from shared import topics

log = logging.getLogger(__name__)

DECISIONS = ("no_penalty", "penalty")
UNKNOWN = "unknown"


def _reason_class(payload: dict) -> str:
    """A rejected report's reason class: its first reason's message code without the ``errors.`` prefix
    (a code of the catalogue, so a bounded set), or ``unknown`` for an event without codes."""
    messages = payload.get("messages") or []
    code = messages[0].get("code") if messages and isinstance(messages[0], dict) else None
    if not isinstance(code, str) or not code:
        return UNKNOWN
    return code.removeprefix("errors.")[:64]


class DomainCounters:
    """The domain figures of one service (only those of the topics it produces)."""

    def __init__(self, service: str, registry: CollectorRegistry):
        produced = {topic.name for topic in topics.TOPICS if service in topic.producers}
        self._observers: dict[str, Callable[[dict], None]] = {}
        if topics.ASSESSMENTS_CLASSIFIED in produced:
            self.classified = Counter(
                "ohs_reports_classified", "Reports classified, by county (GB/T 2260 code) and category 综合风险类别 甲/乙/丙.",
                ["county", "category"], registry=registry,
            )
            self._observers[topics.ASSESSMENTS_CLASSIFIED] = lambda p: self.classified.labels(
                county=str(p.get("region_code") or UNKNOWN)[:6], category=str(p.get("category") or UNKNOWN)[:2]).inc()
        if topics.REPORTS_REJECTED in produced:
            self.rejected = Counter(
                "ohs_reports_rejected", "Reports that could not be classified, by the message code of their first reason.",
                ["reason_class"], registry=registry,
            )
            self._observers[topics.REPORTS_REJECTED] = lambda p: self.rejected.labels(reason_class=_reason_class(p)).inc()
        if topics.DRAW_PUBLISHED in produced:
            self.draws = Counter("ohs_draws_published", "Draws published (双随机、一公开).", registry=registry)
            self._observers[topics.DRAW_PUBLISHED] = lambda p: self.draws.inc()
        if topics.CASE_PROGRESSED in produced:
            self.cases_opened = Counter("ohs_cases_opened", "Cases opened (立案).", registry=registry)
            self._observers[topics.CASE_PROGRESSED] = self._case_progressed
        if topics.PENALTY_DECIDED in produced:
            self.cases_decided = Counter("ohs_cases_decided", "Cases decided, by outcome: no_penalty (初次轻微不予处罚) or penalty.",
                                         ["outcome"], registry=registry)
            for decision in DECISIONS:
                self.cases_decided.labels(outcome=decision)
            self._observers[topics.PENALTY_DECIDED] = lambda p: self.cases_decided.labels(
                outcome=p.get("decision") if p.get("decision") in DECISIONS else UNKNOWN).inc()
        if topics.CREDIT_EVENTS in produced:
            self.credit_events = Counter("ohs_credit_feed_events", "CloudEvents published on the credit feed, by type.", ["type"],
                                         registry=registry)
            self.credit_last = Gauge("ohs_credit_feed_last_event_timestamp_seconds",
                                     "When the credit feed last had an event acknowledged by the broker (Unix time; 0: none since start).",
                                     registry=registry)
            self._observers[topics.CREDIT_EVENTS] = self._credit_event

    def _case_progressed(self, payload: dict) -> None:
        if payload.get("step") == "opened":
            self.cases_opened.inc()

    def _credit_event(self, payload: dict) -> None:
        kind = payload.get("type")
        self.credit_events.labels(type=kind[:80] if isinstance(kind, str) and kind.startswith("cn.gov.ohs.") else UNKNOWN).inc()
        self.credit_last.set(time.time())

    def published(self, topic: str, payload: str) -> None:
        """Count one event the broker acknowledged; never raises (a figure is not worth an event)."""
        observe = self._observers.get(topic)
        if observe is None:
            return
        try:
            body = json.loads(payload)
            if isinstance(body, dict):
                observe(body)
        except Exception:  # noqa: BLE001 - counting must not stop publishing
            log.warning("could not count an event published to %s", topic, exc_info=True)
