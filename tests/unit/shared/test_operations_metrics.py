"""The operators' figures that need no broker: what each service counts when its announcements are published,
the periodic jobs' last success, and the readiness verdict's migrations check."""

from __future__ import annotations

import asyncio
import json

from prometheus_client import generate_latest

from shared import topics
from shared.metrics import ServiceMetrics
from shared.runtime import PeriodicJob


def sample(metrics: ServiceMetrics, name: str, **labels: str) -> float | None:
    for family in metrics.registry.collect():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def test_each_service_counts_what_it_announces_with_low_cardinality_labels() -> None:
    assessment, penalty, registry = ServiceMetrics("assessment"), ServiceMetrics("penalty"), ServiceMetrics("registry")
    for category in ("丙", "丙", "甲"):
        assessment.domain.published(topics.ASSESSMENTS_CLASSIFIED, json.dumps(
            {"credit_code": "91141029MA0GRT8U3L", "region_code": "141029", "category": category}))
    assessment.domain.published(topics.REPORTS_REJECTED, json.dumps(
        {"credit_code": "x", "messages": [{"code": "errors.report.no_hazard", "params": {}}]}))
    assessment.domain.published(topics.REPORTS_REJECTED, json.dumps({"credit_code": "x", "messages": []}))
    assert sample(assessment, "ohs_reports_classified_total", county="141029", category="丙") == 2
    assert sample(assessment, "ohs_reports_classified_total", county="141029", category="甲") == 1
    assert sample(assessment, "ohs_reports_rejected_total", reason_class="report.no_hazard") == 1
    assert sample(assessment, "ohs_reports_rejected_total", reason_class="unknown") == 1
    assert "91141029MA0GRT8U3L" not in generate_latest(assessment.registry).decode(), "no credit code in a label"

    assert sample(penalty, "ohs_cases_decided_total", outcome="penalty") == 0, "known outcomes start at 0"
    penalty.domain.published(topics.CASE_PROGRESSED, json.dumps({"step": "opened"}))
    penalty.domain.published(topics.CASE_PROGRESSED, json.dumps({"step": "educated"}))
    penalty.domain.published(topics.PENALTY_DECIDED, json.dumps({"decision": "no_penalty"}))
    assert sample(penalty, "ohs_cases_opened_total") == 1
    assert sample(penalty, "ohs_cases_decided_total", outcome="no_penalty") == 1

    registry.domain.published(topics.CREDIT_EVENTS, json.dumps({"type": "cn.gov.ohs.classification.changed"}))
    assert sample(registry, "ohs_credit_feed_events_total", type="cn.gov.ohs.classification.changed") == 1
    assert sample(registry, "ohs_credit_feed_last_event_timestamp_seconds") > 0
    assert sample(registry, "ohs_reports_classified_total") is None, "only the producer of a topic counts it"
    registry.domain.published(topics.CREDIT_EVENTS, "not json")  # never raises: a figure is not worth an event


def test_a_periodic_job_records_its_last_success_and_its_failures() -> None:
    metrics = ServiceMetrics("registry")
    runs: list[int] = []

    async def run() -> None:  # the first run succeeds, the second fails
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("database gone")

    async def until_a_failure() -> None:
        task = asyncio.create_task(PeriodicJob("reminder-sweep", 0.0, run).loop(metrics))
        while not sample(metrics, "ohs_job_runs_total", task="reminder-sweep", outcome="failed"):
            await asyncio.sleep(0)
        task.cancel()

    asyncio.run(asyncio.wait_for(until_a_failure(), 5))
    assert sample(metrics, "ohs_job_runs_total", task="reminder-sweep", outcome="ok") == 1
    assert sample(metrics, "ohs_job_last_success_timestamp_seconds", task="reminder-sweep") > 0
