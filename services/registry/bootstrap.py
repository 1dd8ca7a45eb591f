"""Wires the registry: its rule data, its unit of work, its subscriptions, its periodic sweeps and
its HTTP routes."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI
from prometheus_client import Gauge

from services.registry.adapters.attachments import store_from_url
from services.registry.adapters.rules import load_industry_catalogues, load_region_tree
from services.registry.adapters.rules import load_rectification_rules
from services.registry.adapters.rules import load_portrait_rules
from services.registry.adapters.rules import rule_sets_declared
from shared.rules_endpoint import add_rules_in_force
from services.registry.domain.exemptions import china_today
from services.registry.entrypoints.audit import router as audit_router
from services.registry.entrypoints.exemptions import router as exemptions_router
from services.registry.entrypoints.figures import router as figures_router
from services.registry.entrypoints.http import router
from services.registry.entrypoints.overrides import router as overrides_router
from services.registry.entrypoints.portrait import router as portrait_router
from services.registry.entrypoints.rectifications import router as rectifications_router
from services.registry.entrypoints.reminders import router as reminders_router
from services.registry.entrypoints.reports import router as reports_router
from services.registry.entrypoints.transfers import router as transfers_router
from services.registry.service_layer import credit_feed, exemptions, handlers, overrides, rectification, reminders
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from services.registry import views
from shared import topics
from shared.contracts import (
    AssessmentClassified,
    ClassificationChanged,
    ExamSummaryFiled,
    ExceedanceDetected,
    ExemptionChanged,
    OrgDisqualified,
    OrgRated,
    PenaltyDecided,
    TestReportFiled,
)
from shared.contracts import ScreeningRecorded
from services.registry.service_layer import portrait
from shared.contracts import RectificationProgressed
from shared.runtime import PeriodicJob, build_runtime, create_app, use_unit_of_work
from shared.settings import Settings, settings_for

SWEEP_INTERVAL_S = 3600.0  # the 免检 sweep: at start-up, then hourly (ohs registry sweep exemptions for cron)
REMINDER_INTERVAL_S = 3600.0  # the daily reminder sweep, checked hourly: a new China day is caught within the hour
FIGURES_INTERVAL_S = 60.0  # the operators' gauges of 免检 in force and reminders due
RECTIFICATION_INTERVAL_S = 3600.0  # the rectification deadlines (reminded, overdue), checked hourly like the reminders


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("registry")
    regions = load_region_tree(settings.rules_dir)  # packaged provinces + <rules_dir>/regions; a bad file stops start-up
    industries = load_industry_catalogues(settings.rules_dir)  # packaged + <rules_dir>/industries; a bad file stops start-up
    rectification_rules = load_rectification_rules(settings.rules_dir)  # packaged + <rules_dir>/rectification; a bad file stops start-up
    portrait_rules = load_portrait_rules(settings.rules_dir)  # packaged + <rules_dir>/portrait; a bad file stops start-up
    attachments = store_from_url(settings.attachments_url, settings.data_dir)  # OHS_ATTACHMENTS_URL, else <data_dir>/attachments
    runtime = build_runtime(settings, create_topics)
    use_unit_of_work(runtime, RegistryUnitOfWork)
    # a report naming another region asks for a transfer, refused at once outside the region tree (RULES §5a)
    runtime.consumer.subscribe(topics.ASSESSMENTS_CLASSIFIED, AssessmentClassified, partial(handlers.archive_classification, regions=regions),
                               prepare=handlers.preload_archive)
    runtime.consumer.subscribe(topics.PENALTY_DECIDED, PenaltyDecided, overrides.upgrade_for_major_violation)
    # the credit feed (CloudEvents on ohs.credit.events): its own consumer group and inbox scope, so it
    # sees every partition of ohs.penalty.decided besides the enforcement upgrades above
    feed = credit_feed.GROUP_SUFFIX
    runtime.consumer.subscribe(topics.CLASSIFICATION_CHANGED, ClassificationChanged, credit_feed.classification_changed, group_suffix=feed,
                               prepare=credit_feed.preload_classification_changes)
    runtime.consumer.subscribe(topics.EXEMPTION_CHANGED, ExemptionChanged, credit_feed.exemption_changed, group_suffix=feed)
    runtime.consumer.subscribe(topics.PENALTY_DECIDED, PenaltyDecided, credit_feed.penalty_decided, group_suffix=feed)
    runtime.consumer.subscribe(topics.ORGS_DISQUALIFIED, OrgDisqualified, credit_feed.org_disqualified, group_suffix=feed)
    runtime.consumer.subscribe(topics.ORGS_RATED, OrgRated, credit_feed.org_rated, group_suffix=feed)  # star ratings (issue 17)
    # the rectification loop (整改): an item per screened shortcoming, in a group of its own
    runtime.consumer.subscribe(topics.SCREENED, ScreeningRecorded, partial(rectification.raise_from_screening, rulebook=rectification_rules),
                               group_suffix=rectification.GROUP_SUFFIX)
    # … and the items' own log: what a registry rebuilt from the topics restores (corrections, reviews, the sweep's steps)
    runtime.consumer.subscribe(topics.RECTIFICATION_PROGRESSED, RectificationProgressed, rectification.restore_step,
                               group_suffix=rectification.GROUP_SUFFIX)
    # the risk portrait (风险画像) and the figures' facts: a projection of these four topics, in a group of its own
    drawn = portrait.GROUP_SUFFIX
    runtime.consumer.subscribe(topics.ASSESSMENTS_CLASSIFIED, AssessmentClassified, partial(portrait.classified, rules=portrait_rules),
                               group_suffix=drawn)
    runtime.consumer.subscribe(topics.RECTIFICATION_PROGRESSED, RectificationProgressed,
                               partial(portrait.rectification_progressed, rules=portrait_rules), group_suffix=drawn)
    runtime.consumer.subscribe(topics.PENALTY_DECIDED, PenaltyDecided, partial(portrait.penalty_decided, rules=portrait_rules),
                               group_suffix=drawn)
    runtime.consumer.subscribe(topics.SCREENED, ScreeningRecorded, portrait.screened, group_suffix=drawn)
    # non-site facts (issue 17): exceedance episodes, organisations' test reports and examination summaries
    runtime.consumer.subscribe(topics.MONITORING_EXCEEDANCES, ExceedanceDetected, partial(portrait.exceedance, rules=portrait_rules),
                               group_suffix=drawn)
    runtime.consumer.subscribe(topics.ORGS_TEST_REPORTS, TestReportFiled, partial(portrait.test_report_filed, rules=portrait_rules),
                               group_suffix=drawn)
    runtime.consumer.subscribe(topics.ORGS_EXAM_SUMMARIES, ExamSummaryFiled, partial(portrait.exam_summary_filed, rules=portrait_rules),
                               group_suffix=drawn)

    async def sweep_exemptions() -> None:  # idempotent: hourly catches the new day within the hour
        await runtime.uow.run(lambda uow: exemptions.run_sweep(uow, china_today()))

    async def sweep_reminders() -> None:  # idempotent: each reminder is sent once per employer, kind and due day
        await runtime.uow.run(lambda uow: reminders.run_sweep(uow, china_today(), settings.reminder_within_days))

    runtime.jobs.append(PeriodicJob("exemption-sweep", SWEEP_INTERVAL_S, sweep_exemptions))
    runtime.jobs.append(PeriodicJob("reminder-sweep", REMINDER_INTERVAL_S, sweep_reminders))

    async def sweep_rectifications() -> None:  # idempotent: reminded once per item and deadline, overdue once per lapse
        await runtime.uow.run(lambda uow: rectification.run_sweep(uow, china_today(), rectification_rules))

    runtime.jobs.append(PeriodicJob("rectification-sweep", RECTIFICATION_INTERVAL_S, sweep_rectifications))

    # the operators' gauges (docs/operations.md "Metrics"): 免检 in force and reminders due, counted every minute
    exemptions_in_force = Gauge("ohs_exemptions_in_force", "Employers whose 免检 is in force.", registry=runtime.metrics.registry)
    reminders_due = Gauge("ohs_reminders_due", "Re-assessment reminders due today, by kind.", ["kind"], registry=runtime.metrics.registry)

    async def count_figures() -> None:
        figures = await runtime.uow.run(lambda uow: views.operations_figures(uow.session, china_today(), settings.reminder_within_days))
        exemptions_in_force.set(figures["exemptions_in_force"])
        for kind, count in figures["reminders_due"].items():
            reminders_due.labels(kind=kind).set(count)

    runtime.jobs.append(PeriodicJob("figures", FIGURES_INTERVAL_S, count_figures))
    app = create_app(
        runtime,
        title="Registry 分类监督执法档案",
        description="The classification archive per employer and region: current category, trace and every version.",
    )
    app.state.regions = regions
    app.state.industries = industries
    app.state.portrait_rules = portrait_rules
    app.state.rectification_rules = rectification_rules
    app.state.attachments = attachments
    app.include_router(router)
    app.include_router(reports_router)
    app.include_router(audit_router)
    app.include_router(overrides_router)
    app.include_router(exemptions_router)
    app.include_router(reminders_router)
    app.include_router(transfers_router)
    app.include_router(portrait_router)
    app.include_router(figures_router)
    app.include_router(rectifications_router)
    add_rules_in_force(app, rule_sets_declared(industries, rectification_rules, portrait_rules))  # GET /rules/in-force
    return app
