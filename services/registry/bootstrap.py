"""Wires the registry: its tables, its subscriptions and its HTTP routes."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry.domain.regions import RegionTree
from services.registry.entrypoints.audit import router as audit_router
from services.registry.entrypoints.http import router
from services.registry.entrypoints.reports import router as reports_router
from services.registry.service_layer import handlers
from shared import topics
from shared.contracts import AssessmentClassified
from shared.runtime import build_runtime, create_app
from shared.settings import Settings, settings_for


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("registry")
    regions = RegionTree.load(settings.rules_dir)  # packaged provinces + <rules_dir>/regions; a bad file stops start-up
    runtime = build_runtime(settings, create_topics)
    runtime.consumer.subscribe(topics.ASSESSMENTS_CLASSIFIED, AssessmentClassified, handlers.archive_classification)
    app = create_app(
        runtime,
        title="Registry 分类监督执法档案",
        description="The classification archive per employer and region: current category, trace and every version.",
    )
    app.include_router(router)
    app.state.regions = regions
    app.include_router(reports_router)
    app.include_router(audit_router)
    return app
