"""Wires the sampling service."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from services.sampling.adapters.rules import load_sampling_rules
from services.sampling.adapters.rules import rule_sets_declared
from shared.rules_endpoint import add_rules_in_force
from services.sampling.entrypoints import plans
from services.sampling.entrypoints.http import router
from services.sampling.service_layer import handlers, verification
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork
from shared import topics
from shared.contracts import ClassificationChanged, ExemptionChanged
from shared.contracts.monitoring import ExceedanceDetected, MonitoringCoverage
from shared.limits import set_body_limit
from shared.runtime import build_runtime, create_app, use_unit_of_work
from shared.settings import Settings, settings_for


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("sampling")
    rules = load_sampling_rules(settings.rules_dir)
    runtime = build_runtime(settings, create_topics)
    use_unit_of_work(runtime, SamplingUnitOfWork)
    runtime.consumer.subscribe(topics.CLASSIFICATION_CHANGED, ClassificationChanged, handlers.place_in_pool, prepare=handlers.preload_members)
    runtime.consumer.subscribe(topics.EXEMPTION_CHANGED, ExemptionChanged, handlers.apply_exemption)
    # non-site supervision (RULES §10): exceedances become verification tasks; coverage feeds the draw's non-site rule
    runtime.consumer.subscribe(topics.MONITORING_EXCEEDANCES, ExceedanceDetected, partial(verification.open_verification_task, rules=rules))
    runtime.consumer.subscribe(topics.MONITORING_COVERAGE, MonitoringCoverage, verification.record_coverage)
    app = create_app(
        runtime,
        title="Sampling 双随机、一公开",
        description="Sampling pools per region and category, fed by the registry's classification changes; sampling plans, "
        "verifiable draws of targets and inspectors, their publication (一公开), inspection results and statistics.",
    )
    app.state.sampling_rules = rules
    app.include_router(router)
    app.include_router(plans.router)
    app.include_router(plans.public)
    set_body_limit(app, "/verify", plans.VERIFY_MAX_BODY_BYTES)  # a province's publication is larger than 8 MiB
    app.include_router(plans.roster_router)
    add_rules_in_force(app, rule_sets_declared(rules))  # GET /rules/in-force: the rule data in force for a county
    return app
