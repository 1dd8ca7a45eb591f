"""Wires the penalty service."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from services.penalty.domain.no_penalty import NoPenaltyRules
from services.penalty.entrypoints.http import router
from services.penalty.service_layer import handlers
from shared import topics
from shared.contracts import ViolationRecorded
from shared.runtime import build_runtime, create_app
from shared.settings import Settings, settings_for


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("penalty")
    rules = NoPenaltyRules.load(settings.rules_dir)
    runtime = build_runtime(settings, create_topics)
    runtime.consumer.subscribe(topics.VIOLATION_RECORDED, ViolationRecorded, partial(handlers.decide_case, rules=rules))
    app = create_app(
        runtime,
        title="Penalty 初次轻微违法不予处罚",
        description="Violations, the no-penalty list (附件5) and the decision on each case.",
    )
    app.state.no_penalty_rules = rules
    app.include_router(router)
    return app
