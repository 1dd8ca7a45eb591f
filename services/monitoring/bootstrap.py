"""Wires the monitoring service: its limits (rule data), its unit of work, its subscriptions (employers' county and
hazards; the gateways' readings), the timer (shifts closed, silent devices), the coverage round, the purge of old
raw readings, and its HTTP routes."""

from __future__ import annotations

import asyncio
from functools import partial

from fastapi import FastAPI

from services.monitoring.adapters.rules import load_limits, rule_sets_declared
from services.monitoring.entrypoints.http import router
from services.monitoring.service_layer import coverage, handlers, readings
from services.monitoring.service_layer.unit_of_work import MonitoringUnitOfWork
from shared import topics
from shared.contracts import AssessmentClassified, ClassificationChanged, DeviceReadings, utc_now
from shared.rules_endpoint import add_rules_in_force
from shared.runtime import PeriodicJob, build_runtime, create_app, use_unit_of_work
from shared.settings import Settings, settings_for

SWEEP_INTERVAL_S = 30.0  # shifts closed and silent devices found within half a minute of being due
COVERAGE_INTERVAL_S = 60.0  # changed coverage within a minute; every monitored employer once a day
PURGE_INTERVAL_S = 3600.0


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("monitoring")
    limits = load_limits(settings.rules_dir)  # packaged + <rules_dir>/monitoring; a bad file stops start-up
    runtime = build_runtime(settings, create_topics)
    use_unit_of_work(runtime, MonitoringUnitOfWork)
    runtime.consumer.subscribe(topics.CLASSIFICATION_CHANGED, ClassificationChanged, handlers.remember_employer)
    runtime.consumer.subscribe(topics.ASSESSMENTS_CLASSIFIED, AssessmentClassified, handlers.remember_hazards)
    runtime.consumer.subscribe(topics.MONITORING_READINGS, DeviceReadings, partial(handlers.take_gateway_readings, limits=limits))

    def in_uow(work):  # noqa: ANN001, ANN202 - a use case off the event loop, in a unit of work of its own
        def run() -> object:
            with runtime.uow() as uow:
                return work(uow)

        return asyncio.to_thread(run)

    async def sweep() -> None:
        await in_uow(lambda u: readings.sweep(u, limits, utc_now()))

    async def coverage_round() -> None:
        await in_uow(lambda u: coverage.daily(u, limits, utc_now()))

    async def purge() -> None:
        await in_uow(lambda u: readings.purge(u, utc_now(), settings.monitoring_raw_days))

    runtime.jobs += [PeriodicJob("monitoring-sweep", SWEEP_INTERVAL_S, sweep), PeriodicJob("monitoring-coverage", COVERAGE_INTERVAL_S, coverage_round),
                     PeriodicJob("monitoring-purge", PURGE_INTERVAL_S, purge)]
    app = create_app(
        runtime,
        title="Monitoring 在线监测",
        description="Non-site supervision (非现场执法): online monitoring devices at employers' posts (噪声, 粉尘, 化学毒物, 高温), their "
        "readings from the provincial gateway, the exceedance episodes found against the occupational exposure limits in force "
        "(a shift's TWA, a 15-minute STEL, a peak, a silent device) and what monitoring covers of each employer's hazards.",
    )
    app.state.limits = limits
    app.include_router(router)
    add_rules_in_force(app, rule_sets_declared(limits))  # GET /rules/in-force: the limits in force for a county
    return app
