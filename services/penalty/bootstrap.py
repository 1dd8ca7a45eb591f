"""Wires the penalty service."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from services.penalty.adapters.rules import Rulebook
from services.penalty.adapters.rules import rule_sets_declared
from shared.rules_endpoint import add_rules_in_force
from services.penalty.entrypoints.http import router
from services.penalty.entrypoints.org_filings_http import router as org_filings_router
from services.penalty.entrypoints.orgs_http import router as orgs_router
from services.penalty.entrypoints.procedure_http import router as procedure_router
from services.penalty.entrypoints.screening_http import router as screening_router
from services.penalty.service_layer import handlers, org_filings, screening
from services.penalty.service_layer.unit_of_work import PenaltyUnitOfWork
from shared import topics
from shared.contracts import AssessmentClassified, ClassificationChanged, RectificationProgressed, ViolationRecorded
from shared.dates import china_today
from shared.archive_region import preload_archived_employers
from shared.runtime import PeriodicJob, build_runtime, create_app, use_unit_of_work
from shared.settings import Settings, settings_for

SWEEP_INTERVAL_S = 3600.0  # the daily escalation sweep, checked hourly (`ohs penalty sweep` for cron)


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("penalty")
    rulebook = Rulebook.load(settings.rules_dir)  # packaged + OHS_RULES_DIR; a bad file stops start-up
    runtime = build_runtime(settings, create_topics)
    use_unit_of_work(runtime, PenaltyUnitOfWork)
    runtime.consumer.subscribe(topics.VIOLATION_RECORDED, ViolationRecorded, partial(handlers.decide_case, rules=rulebook))
    # where the archive has each employer: the county of a case opened from a request (RULES §5a)
    runtime.consumer.subscribe(topics.CLASSIFICATION_CHANGED, ClassificationChanged, handlers.record_archived_employer,
                               prepare=preload_archived_employers)
    # every classified report's shortcomings screened against 附件5, and the registry's rectification items followed (issue 13)
    runtime.consumer.subscribe(topics.ASSESSMENTS_CLASSIFIED, AssessmentClassified, partial(screening.screen_report, rulebook=rulebook))
    runtime.consumer.subscribe(topics.RECTIFICATION_PROGRESSED, RectificationProgressed, screening.record_rectification)
    # the employers each technical service organisation served (its assessment reports): the star rating's completeness (issue 17)
    runtime.consumer.subscribe(topics.ASSESSMENTS_CLASSIFIED, AssessmentClassified,
                               partial(org_filings.record_engagement, rules=rulebook.org_rating), group_suffix="org-rating")

    async def sweep_escalations() -> None:  # idempotent: an escalated case is no longer awaiting correction
        await runtime.uow.run(lambda uow: handlers.sweep_escalations(uow, china_today(), rulebook))

    runtime.jobs.append(PeriodicJob("escalation-sweep", SWEEP_INTERVAL_S, sweep_escalations))

    async def rerate_orgs() -> None:  # organisations' star ratings move with the day too (a disqualification ends, findings age)
        await runtime.uow.run(lambda uow: org_filings.rerate_all(uow, rulebook.org_rating, china_today()))

    runtime.jobs.append(PeriodicJob("org-ratings", SWEEP_INTERVAL_S, rerate_orgs))  # idempotent: OrgRated only on a change
    app = create_app(
        runtime,
        title="Penalty 初次轻微违法不予处罚 · 三步法",
        description="Violations, the no-penalty list (附件5), the three-step procedure, the discretion baseline, "
        "case codes (行政行为码) and the case-file review.",
    )
    app.state.rulebook = rulebook
    app.state.no_penalty_rules = rulebook.no_penalty
    app.include_router(router)
    app.include_router(procedure_router)
    app.include_router(org_filings_router)  # organisations' filings and star rating (issue 17); before orgs_router (PUT /orgs/{id})
    app.include_router(orgs_router)  # technical service organisations (issue 6 item 7)
    app.include_router(screening_router)  # screenings of classified reports against 附件5 (issue 13)
    add_rules_in_force(app, rule_sets_declared(rulebook))  # GET /rules/in-force: the rule data in force for a county
    return app
