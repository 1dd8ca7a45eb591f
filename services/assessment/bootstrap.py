"""Wires the assessment service."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from services.assessment.adapters.rules import load_assessment_rules
from services.assessment.adapters.rules import rule_sets_declared
from shared.rules_endpoint import add_rules_in_force
from services.assessment.entrypoints.http import router
from services.assessment.service_layer import handlers
from services.assessment.service_layer.unit_of_work import AssessmentUnitOfWork
from shared import topics
from shared.contracts import ClassificationChanged, OrgDisqualified, ReportSubmitted, TestReportFiled
from shared.archive_region import preload_archived_employers
from shared.runtime import build_runtime, create_app, use_unit_of_work
from shared.settings import Settings, settings_for


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("assessment")
    rules = load_assessment_rules(settings.rules_dir)
    runtime = build_runtime(settings, create_topics)
    use_unit_of_work(runtime, AssessmentUnitOfWork)
    runtime.consumer.subscribe(topics.REPORTS_SUBMITTED, ReportSubmitted, partial(handlers.classify_submission, rules=rules),
                               prepare=handlers.preload_submissions)
    runtime.consumer.subscribe(topics.ORGS_DISQUALIFIED, OrgDisqualified, handlers.record_disqualification)
    # organisations' test reports: the test-validity check of later classifications (issue 17)
    runtime.consumer.subscribe(topics.ORGS_TEST_REPORTS, TestReportFiled, handlers.record_filed_test_report)
    # where the archive has each employer: its jurisdiction for submissions (RULES §5a)
    runtime.consumer.subscribe(topics.CLASSIFICATION_CHANGED, ClassificationChanged, handlers.record_archived_employer,
                               prepare=preload_archived_employers)
    app = create_app(
        runtime,
        title="Assessment 综合风险评估",
        description="Validates submitted comprehensive risk assessment reports (附件4) and classifies them 甲/乙/丙.",
    )
    app.state.rules = rules
    app.state.settings = settings
    app.include_router(router)
    add_rules_in_force(app, rule_sets_declared(rules))  # GET /rules/in-force: the rule data in force for a county
    return app
