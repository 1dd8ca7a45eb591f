"""Wires the sampling service."""

from __future__ import annotations

from fastapi import FastAPI

from services.sampling.entrypoints.http import router
from services.sampling.service_layer import handlers
from shared import topics
from shared.contracts import ClassificationChanged, ExemptionChanged
from shared.runtime import build_runtime, create_app
from shared.settings import Settings, settings_for


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("sampling")
    runtime = build_runtime(settings, create_topics)
    runtime.consumer.subscribe(topics.CLASSIFICATION_CHANGED, ClassificationChanged, handlers.place_in_pool)
    runtime.consumer.subscribe(topics.EXEMPTION_CHANGED, ExemptionChanged, handlers.apply_exemption)
    app = create_app(
        runtime,
        title="Sampling 双随机、一公开",
        description="Sampling pools per region and category, fed by the registry's classification changes.",
    )
    app.include_router(router)
    return app
