"""Wires the assessment service."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from services.assessment.entrypoints.http import router
from services.assessment.service_layer import handlers
from shared import topics
from shared.contracts import OrgDisqualified, ReportSubmitted
from shared.messaging import session_handler
from shared.runtime import build_runtime, create_app
from shared.settings import Settings, settings_for


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("assessment")
    rules = handlers.AssessmentRules.load(settings.rules_dir)
    runtime = build_runtime(settings, create_topics)
    runtime.consumer.subscribe(
        topics.REPORTS_SUBMITTED, ReportSubmitted, session_handler(partial(handlers.classify_submission, rules=rules))
    )
    runtime.consumer.subscribe(topics.ORGS_DISQUALIFIED, OrgDisqualified, session_handler(handlers.record_disqualification))
    app = create_app(
        runtime,
        title="Assessment 综合风险评估",
        description="Validates submitted comprehensive risk assessment reports (附件4) and classifies them 甲/乙/丙.",
    )
    app.state.rules = rules
    app.state.settings = settings
    app.include_router(router)
    return app
