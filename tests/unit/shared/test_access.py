"""Access: every role on every endpoint of the five services, inside and outside its scope.

The apps are built by their real ``bootstrap`` on SQLite (migrated with the services' own
migrations) and driven in-process with a TestClient that is not entered, so no Kafka is needed:
the lifespan never runs and the outbox relay's ``flush`` is a no-op. Rows are put in through the
services' own handlers.

The people (tests.support.DEFAULT_SCOPES): province 140000 山西省, city 141000 临汾市, county
141029 乡宁县, the example employer of 乡宁县, an auditor for 临汾市. The employers:

    E1  141029 乡宁县 (临汾市)   the example employer
    E2  141024 洪洞县 (临汾市)
    E3  140105 太原市小店区
    E4  110101 北京市东城区 (outside the province)

Each employer's classified report discloses one shortcoming (自查表 4.3 lost its points): penalty screened
it (eligible if corrected, 70-1) and a case was opened from the screening; the registry raised its
rectification item, which the employer corrected (with a PDF) and its county accepted (cleared, 解除),
and drew its portrait; the notification service told the employer and the county of the item.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.assessment.bootstrap import bootstrap as assessment_bootstrap
from services.assessment.service_layer import handlers as assessment_handlers
from services.notification.bootstrap import bootstrap as notification_bootstrap
from services.notification.domain.notifications import notification_id
from services.notification.service_layer import handlers as notification_handlers
from services.penalty.bootstrap import bootstrap as penalty_bootstrap
from services.penalty.service_layer import handlers as penalty_handlers
from services.penalty.service_layer import screening as penalty_screening
from services.registry.bootstrap import bootstrap as registry_bootstrap
from services.registry.domain.exemptions import china_today
from services.registry.service_layer import exemptions as registry_exemptions
from services.registry.service_layer import handlers as registry_handlers
from services.registry.service_layer import overrides as registry_overrides
from services.registry.service_layer import portrait as registry_portrait
from services.registry.service_layer import rectification as registry_rectification
from services.sampling.adapters.rules import load_sampling_rules
from services.sampling.bootstrap import bootstrap as sampling_bootstrap
from services.sampling.service_layer import commands as sampling_schemas
from services.sampling.service_layer import handlers as sampling_handlers
from services.sampling.service_layer import plans as sampling_plans
from services.sampling.service_layer import results as sampling_results
from services.sampling.service_layer import roster as sampling_roster
from shared.auth import (
    TOKEN_PREFIX,
    InvalidToken,
    Principal,
    _b64,
    _signature,
    issue_token,
    verify_token,
)
from shared.contracts import (
    AssessmentClassified,
    ClassificationChanged,
    FactorGrade,
    LostPoints,
    RectificationProgressed,
    Report,
    ReportSubmitted,
    RuleSetRef,
    ScreeningRecorded,
    TraceEntry,
    ViolationRecorded,
)
from shared.identifiers import credit_code_check_character
from shared.jurisdiction import region_prefix
from shared.settings import settings_for
from tests.support import (
    DEFAULT_SCOPES,
    EXAMPLE_EMPLOYER,
    TEST_AUTH_SECRET,
    app_without_broker,
    auth,
    report_for,
    token_for,
)

ROLES = ("province", "city", "county", "employer", "auditor")
OPEN_PATHS = {"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
NOT_FOUND = re.compile(r"not_found$|not_in_jurisdiction$")  # the code of a 404: no such record (or none the token sees)
EN = {"Accept-Language": "en"}


def credit_code(region: str, serial: str) -> str:
    body = f"91{region}{serial}"
    return body + credit_code_check_character(body)


@dataclass(frozen=True)
class Employer:
    label: str
    credit_code: str
    region_code: str


E1 = Employer("E1-141029", EXAMPLE_EMPLOYER, "141029")
E2 = Employer("E2-141024", credit_code("141024", "MA0AAAAA1"), "141024")
E3 = Employer("E3-140105", credit_code("140105", "MA0BBBBB2"), "140105")
E4 = Employer("E4-110101", credit_code("110101", "MA0CCCCC3"), "110101")
EMPLOYERS = (E1, E2, E3, E4)
LABELS = {e.credit_code: e.label for e in EMPLOYERS}

# Who may read whose records (and whom staff may act for: the same, minus the auditor).
READS = {
    "province": {E1, E2, E3},
    "city": {E1, E2},
    "county": {E1},
    "employer": {E1},
    "auditor": {E1, E2},
}
ACTS = {role: (set() if role == "auditor" else employers) for role, employers in READS.items()}


# --------------------------------------------------------------------------- the five services, with rows


def build(factory: Any, service: str, folder: Path) -> FastAPI:
    return app_without_broker(factory, service, folder)


@dataclass
class System:
    assessment: TestClient
    registry: TestClient
    sampling: TestClient
    penalty: TestClient
    notification: TestClient
    submissions: dict[str, str]  # employer label -> classified submission id
    unclassified: dict[str, str]  # employer label -> accepted (not yet classified) submission id
    cases: dict[str, str]  # employer label -> case id
    exemptions: dict[str, str] = field(default_factory=dict)  # employer label -> a revoked exemption's id (registry)
    plans: dict[str, str] = field(default_factory=dict)  # employer label -> its county's drawn sampling plan
    tasks: dict[str, str] = field(default_factory=dict)  # employer label -> its sampling task (with a recorded result)
    screenings: dict[str, str] = field(default_factory=dict)  # employer label -> its screening (a case opened from it: penalty)
    rectifications: dict[str, str] = field(default_factory=dict)  # employer label -> its rectification item (cleared: registry)
    notices: dict[str, str] = field(default_factory=dict)  # "employer|E1-141029" / "county|E1-141029" -> the item's notification


def classified_event(employer: Employer) -> AssessmentClassified:
    """The employer's classified report; it discloses one shortcoming: 自查表 4.3 (test results not published) lost its points."""
    return AssessmentClassified(
        producer="test", credit_code=employer.credit_code, submission_id=uuid.uuid4(), enterprise_name=f"企业 {employer.label}",
        region_code=employer.region_code, employees=30, assessed_on=date(2023, 6, 1), hazard_grade="Ⅲ", management_grade="B",
        score=82.5, category="丙", lost_points=[LostPoints(item="4.3", title="检测结果公布", earned=0, points=3)],
        factors=[FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=False, exposed=24, headcount_band="10–49", grade="Ⅲ")],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3", detail="Ⅲ × B → 丙")],
    )


# a correction's attachment: a (tiny) PDF, as the registry checks it (type, signature, name, size)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CORRECTION = {"text": "检测结果已在公告栏和内网公布"}


def published(uow: Any) -> list[Any]:
    """The events the use cases run on ``uow`` publish from now on (they go to its outbox as well)."""
    events: list[Any] = []
    publish = uow.publish

    def keep(event: Any) -> None:
        events.append(event)
        publish(event)

    uow.publish = keep
    return events


SAMPLING_ROSTER = {"inspectors": [{"id": f"i{k}", "name": f"检查员{k}"} for k in range(1, 4)]}
SAMPLING_RESULT = {"outcome": "compliant", "inspected_on": "2026-03-02"}
# the sampling service's public record (一公开): no token needed
PUBLIC_PATHS = {"/plans/{plan_id}/publication", "/plans/{plan_id}/publication.xlsx", "/verify", "/publications"}
PENALTY_PUBLIC_PATHS = {"/public/org-ratings"}  # organisations' star ratings (星级评定, issue 17): listed publicly


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    folder = tmp_path_factory.mktemp("access")
    apps = {
        "assessment": build(assessment_bootstrap, "assessment", folder),
        "registry": build(registry_bootstrap, "registry", folder),
        "sampling": build(sampling_bootstrap, "sampling", folder),
        "penalty": build(penalty_bootstrap, "penalty", folder),
        "notification": build(notification_bootstrap, "notification", folder),
    }
    classified = {employer.label: classified_event(employer) for employer in EMPLOYERS}  # each discloses checklist:4.3
    submissions, unclassified, cases = {}, {}, {}
    rules = apps["assessment"].state.rules
    with apps["assessment"].state.runtime.uow() as uow:
        for employer in EMPLOYERS:
            report = Report.model_validate(report_for(employer.credit_code, employer.region_code))
            accepted = assessment_handlers.accept_report(uow, report, date.today())
            event = ReportSubmitted(
                producer="test", credit_code=employer.credit_code, submission_id=uuid.UUID(accepted.submission.submission_id),
                received_at=datetime.now(timezone.utc), report=report,
            )
            assessment_handlers.classify_submission(uow, event, rules)
            uow.commit()
            submissions[employer.label] = accepted.submission.submission_id
            later = Report.model_validate(report_for(employer.credit_code, employer.region_code, signed_by="李四"))
            unclassified[employer.label] = assessment_handlers.accept_report(uow, later, date.today()).submission.submission_id
    exemptions: dict[str, str] = {}
    today = china_today()
    with apps["registry"].state.runtime.uow() as session:  # the registry's unit of work (its use cases take one)
        for employer in EMPLOYERS:
            registry_handlers.archive_classification(session, classified[employer.label])
            session.commit()
            # a state in which the override and 免检 rows answer the same whatever their order (see registry_rows):
            # a resubmission requested (dispute and verification: 409), an exemption in force (a new grant: 409),
            # and one already revoked (revoking it again: 409)
            code, actor = employer.credit_code, "test setup"
            registry_overrides.dispute(session, code, reason="检测报告编号不存在", actor=actor)
            registry_overrides.verify(session, code, finding="报告不实", resubmission_requested=True, actor=actor)
            registry_exemptions.grant(session, code, valid_from=today, valid_until=today + timedelta(days=365), reason="信用 A 级",
                                      basis="b", actor=actor, today=today)
            revoked = registry_exemptions.grant(session, code, valid_from=today + timedelta(days=400),
                                                valid_until=today + timedelta(days=430), reason="r", basis="b", actor=actor, today=today)
            registry_exemptions.revoke(session, code, revoked.id, reason="撤回", actor=actor)
            exemptions[employer.label] = revoked.id
            session.commit()
    with apps["sampling"].state.runtime.uow() as uow:
        for employer in EMPLOYERS:
            sampling_handlers.place_in_pool(uow, ClassificationChanged(
                producer="test", credit_code=employer.credit_code, enterprise_name=f"企业 {employer.label}",
                region_code=employer.region_code, archive_version=1, previous_category=None, category="丙",
                hazard_grade="Ⅲ", management_grade="B", submission_id=None, reason="first archive",
            ))
        uow.commit()
        # a drawn plan per county (丙 30 %: its one employer is the task), each task with a result recorded (SAMPLING_RESULT)
        plans, tasks = {}, {}
        for employer in EMPLOYERS:
            sampling_roster.replace_roster(uow, employer.region_code, sampling_schemas.RosterIn.model_validate(SAMPLING_ROSTER))
            plan_id = sampling_plans.create_plan(uow, sampling_schemas.PlanIn(region_code=employer.region_code, period="2026"),
                                                 load_sampling_rules(), "test setup")
            sampling_plans.draw(uow, plan_id, "test setup")
            task_id = sampling_plans.task_id_for(plan_id, employer.credit_code)
            sampling_results.record_result(uow, task_id, sampling_schemas.ResultIn.model_validate(SAMPLING_RESULT), "test setup")
            plans[employer.label], tasks[employer.label] = plan_id, task_id
    with apps["penalty"].state.runtime.uow() as penalty_uow:
        for employer in EMPLOYERS:
            case = penalty_handlers.record_violation(penalty_uow, ViolationRecorded(
                producer="test", credit_code=employer.credit_code, case_id=uuid.uuid4(), item_code="70-4",
                found_on=date(2024, 3, 1), harm="none", corrected_on=None, rectification_deadline=None,
            ))
            cases[employer.label] = case.id
        # 附件5 screening of each report: its one shortcoming (4.3, 公布检测结果) is a listed duty, eligible if corrected
        screened_events = published(penalty_uow)
        for employer in EMPLOYERS:
            penalty_screening.screen_report(penalty_uow, classified[employer.label], apps["penalty"].state.rulebook)
        penalty_uow.commit()
    screened: dict[str, ScreeningRecorded] = {LABELS[e.credit_code]: e for e in screened_events}
    assert sorted(screened) == sorted(e.label for e in EMPLOYERS)
    assert [r.outcome for e in screened.values() for r in e.results] == ["eligible_if_corrected"] * len(EMPLOYERS)
    screenings = {label: str(event.results[0].screening_id) for label, event in screened.items()}
    # the registry: the portrait drawn from the report and the screening, a rectification item raised from it
    registry_app = apps["registry"]
    rectifications: dict[str, str] = {}
    with registry_app.state.runtime.uow() as session:
        steps = published(session)
        for employer in EMPLOYERS:
            registry_portrait.classified(session, classified[employer.label], registry_app.state.portrait_rules)
            registry_portrait.screened(session, screened[employer.label])
            [rectifications[employer.label]] = registry_rectification.raise_from_screening(
                session, screened[employer.label], registry_app.state.rectification_rules)
        session.commit()
        raised = [e for e in steps if isinstance(e, RectificationProgressed)]
        assert [e.step for e in raised] == ["raised"] * len(EMPLOYERS)
        for event in raised:
            registry_portrait.rectification_progressed(session, event, registry_app.state.portrait_rules)
        session.commit()
    # the notification service: each item raised tells the employer and its county
    notices: dict[str, str] = {}
    templates = apps["notification"].state.templates
    with apps["notification"].state.runtime.uow() as notification_uow:
        for event in raised:
            added = notification_handlers.notify_rectification_progressed(notification_uow, event, templates=templates)
            for kind, recipient in (("employer", event.credit_code), ("county", event.region_code)):
                notices[f"{kind}|{LABELS[event.credit_code]}"] = notification_id(str(event.event_id), kind, recipient)
            assert sorted(added) == sorted(notices[f"{kind}|{LABELS[event.credit_code]}"] for kind in ("employer", "county"))
        notification_uow.commit()
    clients = {name: TestClient(app) for name, app in apps.items()}  # not entered: no lifespan, no Kafka
    # through the routes, each employer's county: a case opened from the screening, and the item corrected (with a PDF) by
    # the employer and accepted (解除): opening again, correcting again and reviewing again then answer 409 whatever the row order
    for employer in EMPLOYERS:
        county, item = auth("county", employer.region_code), rectifications[employer.label]
        opened = clients["penalty"].post(f"/screenings/{screenings[employer.label]}/case", headers=county)
        assert opened.status_code == 201, opened.text
        corrected = clients["registry"].post(f"/rectifications/{item}/submission", data=CORRECTION,
                                             files=[("files", ("公示照片.pdf", PDF, "application/pdf"))],
                                             headers=auth("employer", employer.credit_code))
        assert corrected.status_code == 201, corrected.text
        reviewed = clients["registry"].post(f"/rectifications/{item}/review", json={"decision": "accept"}, headers=county)
        assert reviewed.status_code == 200 and reviewed.json()["status"] == "cleared", reviewed.text
    yield System(**clients, submissions=submissions, unclassified=unclassified, cases=cases, exemptions=exemptions, plans=plans, tasks=tasks,
                 screenings=screenings, rectifications=rectifications, notices=notices)
    for app in apps.values():
        app.state.runtime.engine.dispose()


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    role: str
    service: str
    method: str
    path: str  # may name {submission:E1-141029} / {unclassified:…} / {case:…}
    expected: int
    body: Any = None
    expect_items: tuple[str, ...] | None = None  # for listings: the employers (labels) the answer holds
    multipart: bool = False  # the body is the form's fields, sent as multipart/form-data with a PDF attached

    @property
    def id(self) -> str:
        return f"{self.role} {self.method} {self.path} -> {self.expected}"


def status_for(allowed: bool, ok: int, refused: int) -> int:
    return ok if allowed else refused


def new_report_body(employer: Employer) -> dict[str, Any]:
    return report_for(employer.credit_code, employer.region_code)


def violation_body(employer: Employer, **changes: Any) -> dict[str, Any]:
    return {"credit_code": employer.credit_code, "item_code": "70-4", "found_on": "2024-03-01", "harm": "none", **changes}


def table() -> list[Row]:
    rows: list[Row] = []
    for role in ROLES:
        for e in EMPLOYERS:
            reads, acts = e in READS[role], e in ACTS[role]
            # assessment: submitting is acting (403 when not allowed); reading outside the scope is 404
            rows.append(Row(role, "assessment", "POST", f"/reports [{e.label}]", status_for(acts, 202, 403), new_report_body(e)))
            for suffix in ("", "/document", "/notice"):
                rows.append(Row(role, "assessment", "GET", f"/reports/{{submission:{e.label}}}{suffix}", status_for(reads, 200, 404)))
            # an unclassified report has no document (409) — but only a reader may learn that
            rows.append(Row(role, "assessment", "GET", f"/reports/{{unclassified:{e.label}}}/document", status_for(reads, 409, 404)))
            # registry
            rows.append(Row(role, "registry", "GET", f"/enterprises/{e.credit_code}", status_for(reads, 200, 404)))
            # penalty
            records = acts and role in ("county", "city", "province")  # violations: staff only
            rows.append(Row(role, "penalty", "POST", f"/violations [{e.label}]", status_for(records, 201, 403), violation_body(e)))
            rows.append(Row(role, "penalty", "GET", f"/cases/{{case:{e.label}}}", status_for(reads, 200, 404)))
            rows.append(Row(role, "penalty", "GET", f"/cases?credit_code={e.credit_code}", 200,
                            expect_items=(e.label,) if reads else ()))
            # the procedure of a case: staff only (403), inside the jurisdiction (404 outside); the fixture's cases are
            # open (eligible, nothing done yet), so every allowed step below is out of order (409) whatever the row order
            for step, body in (("rectification-order", {"ordered_on": "2024-03-04"}),
                               ("verification", {"verified_on": "2024-03-20", "corrected": True, "corrected_on": "2024-03-10"}),
                               ("commitment", {"signed_on": "2024-03-04"}), ("fine", {"fine_yuan": 10000})):
                rows.append(Row(role, "penalty", "POST", f"/cases/{{case:{e.label}}}/{step}",
                                (409 if acts else 404) if role in ("county", "city", "province") else 403, body))
        rows.append(Row(role, "penalty", "GET", "/rules/no-penalty?region_code=141029", 200))
        rows.append(Row(role, "penalty", "GET", "/cases/no-such-case", 404))
        # case-code coverage and the case-file review: staff and auditors inside their jurisdiction; never employers
        for report in ("/reports/case-codes", "/reviews/cases", "/reviews/cases.xlsx"):
            for region in ("141029", "141024", "141000", "140000", "110101"):
                expected = 403 if role == "employer" else status_for(covers(role, region), 200, 404)
                rows.append(Row(role, "penalty", "GET", f"{report}?region_code={region}", expected))
        rows.append(Row(role, "penalty", "POST", "/sweeps/escalation", 200 if role in ("county", "city", "province") else 403))

    # registry listing: staff and auditors inside their jurisdiction (default: all of it); employers their own record
    listing = [
        ("province", None, 200, (E1, E2, E3)), ("province", "141000", 200, (E1, E2)), ("province", "110000", 403, None),
        ("city", None, 200, (E1, E2)), ("city", "141024", 200, (E2,)), ("city", "141000", 200, (E1, E2)),
        ("city", "140000", 403, None), ("city", "140105", 403, None),
        ("county", None, 200, (E1,)), ("county", "141029", 200, (E1,)), ("county", "141024", 403, None), ("county", "141000", 403, None),
        ("auditor", None, 200, (E1, E2)), ("auditor", "141029", 200, (E1,)), ("auditor", "140100", 403, None),
        ("employer", None, 200, (E1,)), ("employer", "141000", 200, (E1,)), ("employer", "141024", 200, ()),
    ]
    for role, region, expected, items in listing:
        path = "/enterprises" + (f"?region_code={region}" if region else "")
        rows.append(Row(role, "registry", "GET", path, expected, expect_items=None if items is None else tuple(e.label for e in items)))

    # sampling: staff and auditors, inside their jurisdiction (404 outside); never employers (403)
    pools = {
        "province": {"141029": (E1,), "141000": (E1, E2), "140105": (E3,), "140000": (E1, E2, E3), "110101": None},
        "city": {"141029": (E1,), "141024": (E2,), "141000": (E1, E2), "140105": None, "140000": None},
        "county": {"141029": (E1,), "141024": None, "141000": None, "140000": None},
        "auditor": {"141029": (E1,), "141000": (E1, E2), "140100": None, "140000": None},
    }
    for role, regions in pools.items():
        for region, items in regions.items():
            rows.append(Row(role, "sampling", "GET", f"/pools/{region}", 404 if items is None else 200,
                            expect_items=None if items is None else tuple(e.label for e in items)))
    for region in ("141029", "141000"):
        rows.append(Row("employer", "sampling", "GET", f"/pools/{region}", 403))
    rows += sampling_rows()

    # penalty: the case's county comes from region_code, else from the credit code when that is a county's
    city_registered = Employer("E5-city-registered", credit_code("141000", "MA0DDDDD4"), "141029")
    for role, expected in (("county", 422), ("city", 422), ("employer", 403), ("auditor", 403)):
        rows.append(Row(role, "penalty", "POST", "/violations [city-registered, no region_code]", expected, violation_body(city_registered)))
    for role, expected in (("county", 201), ("city", 201), ("province", 201)):
        rows.append(Row(role, "penalty", "POST", "/violations [city-registered, region_code 141029]", expected,
                        violation_body(city_registered, region_code="141029")))
    rows.append(Row("county", "penalty", "POST", "/violations [E1, region_code 141024]", 403, violation_body(E1, region_code="141024")))
    return rows + registry_rows() + loop_rows()


STAFF_ROLES = ("county", "city", "province")
LOADED_REGIONS = {"140000", "141000", "141024", "141029"}  # in the registry's region tree (山西省 → 临汾市 → its counties)


def covers(role: str, region: str) -> bool:
    """Staff and auditors: is ``region`` inside the role's jurisdiction (DEFAULT_SCOPES)?"""
    return role != "employer" and region.startswith(region_prefix(DEFAULT_SCOPES[role]))


def registry_rows() -> list[Row]:
    """The registry's endpoints after the archive: audit chains, regions, reports, overrides, 免检, reminders.

    The fixture leaves every employer with a resubmission requested, an exemption in force and one
    revoked, so that an allowed override or 免检 step answers 409 (the access check passed, the
    state refuses) whatever the order the rows run in; an upgrade is always recorded (丙 stays 丙)."""
    rows: list[Row] = []
    today = china_today()
    grant = {"valid_from": (today + timedelta(days=10)).isoformat(), "valid_until": (today + timedelta(days=20)).isoformat(),
             "reason": "信用 A 级", "basis": "晋卫信〔2026〕3号"}
    for role in ROLES:
        staff = role in STAFF_ROLES
        for e in EMPLOYERS:
            reads, acts = e in READS[role], staff and e in ACTS[role]
            base = f"/enterprises/{e.credit_code}"
            industry = {"name": "某煤业", "region_code": e.region_code, "industry_codes": ["B0610"], "employees": 10, "reason": "逾期未提交报告"}
            # industry default: 403 for a region outside the jurisdiction (checked on the body); 409: it has a report
            rows.append(Row(role, "registry", "POST", f"{base}/industry-classification", 409 if acts else 403, industry))
            for path, body, ok in (
                ("upgrade", {"reason": "瞒报接触人数", "steps": 1}, 201),
                ("dispute", {"reason": "检测报告编号不存在"}, 409),  # a resubmission is requested
                ("verification", {"finding": "现场核实", "resubmission_requested": False}, 409),  # not disputed
                ("exemptions", grant, 409),  # overlaps the exemption in force
                (f"exemptions/{{exemption:{e.label}}}/revoke", {"reason": "发现违法行为"}, 409),  # already revoked
            ):
                rows.append(Row(role, "registry", "POST", f"{base}/{path}", ok if acts else 403 if not staff else 404, body))
            rows.append(Row(role, "registry", "DELETE", f"{base}/exemptions/{{exemption:{e.label}}}?reason=x", 409 if acts else 403 if not staff else 404))
            rows.append(Row(role, "registry", "GET", f"{base}/exemptions", status_for(reads, 200, 404)))
        for region in ("141029", "141024", "140105", "110101"):  # the counties of E1–E4
            for suffix in ("/verify", ""):
                rows.append(Row(role, "registry", "GET", f"/audit/chain/{region}{suffix}", status_for(covers(role, region), 200, 404)))
        rows.append(Row(role, "registry", "GET", "/audit/chain/141000/verify", 422))  # a chain is a county's
        for region in ("141029", "141000", "140000", "110101", "140105"):  # any token reads the tree; 110101, 140105 are not loaded
            rows.append(Row(role, "registry", "GET", f"/regions/{region}", status_for(region in LOADED_REGIONS, 200, 404)))
        for report in ("categories", "changes", "small-employers", "archive.xlsx"):
            for region in (None, "141029", "141024", "141000", "140000", "110101"):
                code = region or DEFAULT_SCOPES[role]
                allowed = covers(role, code) and code in LOADED_REGIONS
                path = f"/reports/{report}" + (f"?region_code={region}" if region else "")
                rows.append(Row(role, "registry", "GET", path, 403 if role == "employer" else status_for(allowed, 200, 404)))
        # reminders: every employer is due (assessed 2023-06-01: re-assessment due 2026-06-01), so a wide window lists them all
        for region in (None, "141029", "141024", "141000", "140000", "140105", "110101"):
            code = region or DEFAULT_SCOPES[role]
            path = "/reminders?within_days=3650" + (f"&region_code={region}" if region else "")
            if role == "employer":
                rows.append(Row(role, "registry", "GET", path, 403))
            elif covers(role, code):
                items = tuple(e.label for e in EMPLOYERS if e.region_code.startswith(region_prefix(code)))
                rows.append(Row(role, "registry", "GET", path, 200, expect_items=items))
            else:
                rows.append(Row(role, "registry", "GET", path, 404))
    return rows


def sampling_rows() -> list[Row]:
    """Plans, draws, tasks, results, statistics, rosters: staff act and auditors read inside their jurisdiction;
    an existing record outside it answers 404, acting on a region outside it 403; employers 403. The publication
    and /verify are public. Every plan is already drawn and every task has SAMPLING_RESULT, so repeating the
    draw or the result answers 200 whatever the order the rows run in."""
    rows: list[Row] = []
    for role in ROLES:
        staff = role in STAFF_ROLES
        for e in EMPLOYERS:
            reads = covers(role, e.region_code)
            read = 403 if role == "employer" else status_for(reads, 200, 404)
            act = 403 if role == "employer" else 404 if not reads else 200 if staff else 403
            for path in (f"/plans/{{plan:{e.label}}}", f"/plans/{{plan:{e.label}}}/statistics", f"/tasks?plan_id={{plan:{e.label}}}",
                         f"/inspectors/{e.region_code}", f"/statistics/{e.region_code}?period=2026", f"/plans?region_code={e.region_code}"):
                rows.append(Row(role, "sampling", "GET", path, read))
            rows.append(Row(role, "sampling", "POST", f"/plans/{{plan:{e.label}}}/draw", act))
            rows.append(Row(role, "sampling", "POST", f"/tasks/{{task:{e.label}}}/result", act, SAMPLING_RESULT))
            creates = staff and reads
            rows.append(Row(role, "sampling", "POST", f"/plans [{e.label}]", 201 if creates else 403,
                            {"region_code": e.region_code, "period": "2026Q3"}))
            rows.append(Row(role, "sampling", "PUT", f"/inspectors/{e.region_code}", 200 if creates else 403, SAMPLING_ROSTER))
            rows.append(Row(role, "sampling", "POST", f"/inspectors/{e.region_code}/conflicts", 201 if creates else 403,
                            {"inspector_id": "i1", "credit_code": e.credit_code, "reason": "亲属"}))
            for suffix in ("", ".xlsx"):  # 一公开: any caller, with or without a token
                rows.append(Row(role, "sampling", "GET", f"/plans/{{plan:{e.label}}}/publication{suffix}", 200))
        rows.append(Row(role, "sampling", "POST", "/verify", 422, {"plan": {}}))
        rows.append(Row(role, "sampling", "GET", "/plans/no-such-plan", 403 if role == "employer" else 404))
    return rows


def loop_rows() -> list[Row]:
    """Issue 13's endpoints: penalty's screenings, the registry's rectification items, portraits and figures, the
    notification service's inbox and contacts. The employer reads its own, staff and auditors their jurisdiction's
    (404 outside it); staff act (an auditor or an employer: 403); only the employer corrects its item. The fixture
    left each screening with its case and each item cleared, so an allowed step answers 409 whatever the row order."""
    rows: list[Row] = []
    for role in ROLES:
        staff = role in STAFF_ROLES
        mine = tuple(e.label for e in EMPLOYERS if e in READS[role])  # what a listing of the caller's own scope holds
        # penalty: screenings (listings answer 200 with what the caller may see, like /cases)
        rows.append(Row(role, "penalty", "GET", "/screenings", 200, expect_items=mine))
        rows.append(Row(role, "penalty", "GET", "/screenings?outcome=eligible_if_corrected", 200, expect_items=mine))
        # registry: rectification items of the caller's scope, and of a region (an employer's token names none: 404)
        rows.append(Row(role, "registry", "GET", "/rectifications", 200, expect_items=mine))
        for region in ("141029", "141024", "141000", "140000", "110101"):
            path = f"/rectifications?region_code={region}"
            if role != "employer" and covers(role, region):
                rows.append(Row(role, "registry", "GET", path, 200,
                                expect_items=tuple(e.label for e in EMPLOYERS if e.region_code.startswith(region_prefix(region)))))
            else:
                rows.append(Row(role, "registry", "GET", path, 404))
        # figures: staff and auditors, a loaded region inside their jurisdiction; never employers
        for suffix in ("", ".xlsx"):
            for region in (None, "141029", "141024", "141000", "140000", "110101"):
                code = region or DEFAULT_SCOPES[role]
                allowed = covers(role, code) and code in LOADED_REGIONS
                path = f"/figures{suffix}" + (f"?region_code={region}" if region else "")
                rows.append(Row(role, "registry", "GET", path, 403 if role == "employer" else status_for(allowed, 200, 404)))
        # notification: the inbox is for employers (their own) and staff (their counties' mailboxes); auditors have none
        inbox = {"employer": (E1,), "county": (E1,), "city": (E1, E2), "province": (E1, E2, E3)}
        if role == "auditor":
            rows.append(Row(role, "notification", "GET", "/inbox", 403))
        else:
            rows.append(Row(role, "notification", "GET", "/inbox", 200, expect_items=tuple(e.label for e in inbox[role])))
        rows.append(Row(role, "notification", "POST", "/inbox/no-such-notification/read", 403 if role == "auditor" else 404))
        contact = {"email": "zhang.san@example.cn", "phone": "13800000000"}
        for method, body in (("GET", None), ("PUT", contact)):
            rows.append(Row(role, "notification", method, "/contacts/me", 200 if role == "employer" else 403, body))
            for region in ("141029", "141024", "140105", "110101"):  # the counties of E1–E4
                rows.append(Row(role, "notification", method, f"/contacts/regions/{region}",
                                status_for(covers(role, region), 200, 404) if staff else 403, body))
            # a city's code is no county mailbox (422, a malformed request whoever asks); non-staff are refused first
            rows.append(Row(role, "notification", method, "/contacts/regions/141000", 422 if staff else 403, body))

        for e in EMPLOYERS:
            reads, acts = e in READS[role], staff and e in ACTS[role]
            screening, item = f"{{screening:{e.label}}}", f"{{rectification:{e.label}}}"
            # penalty: one screening; a case from it (staff, inside the jurisdiction; the case is opened already: 409)
            rows.append(Row(role, "penalty", "GET", f"/screenings?credit_code={e.credit_code}", 200,
                            expect_items=(e.label,) if reads else ()))
            rows.append(Row(role, "penalty", "GET", f"/screenings/{screening}", status_for(reads, 200, 404)))
            rows.append(Row(role, "penalty", "POST", f"/screenings/{screening}/case", (409 if acts else 404) if staff else 403))
            # registry: the item, its attachment, its correction (the employer only; cleared: 409) and its review (staff; 409)
            rows.append(Row(role, "registry", "GET", f"/rectifications?credit_code={e.credit_code}", status_for(reads, 200, 404),
                            expect_items=(e.label,) if reads else None))
            for path in (f"/rectifications/{item}", f"/rectifications/{item}/attachments/1"):
                rows.append(Row(role, "registry", "GET", path, status_for(reads, 200, 404)))
            rows.append(Row(role, "registry", "POST", f"/rectifications/{item}/submission",
                            status_for(reads, 409, 404) if role == "employer" else 403, CORRECTION, multipart=True))
            rows.append(Row(role, "registry", "POST", f"/rectifications/{item}/review", (409 if acts else 404) if staff else 403,
                            {"decision": "accept"}))
            # registry: the portrait and its versions, for whoever reads the employer
            base = f"/enterprises/{e.credit_code}/portrait"
            for path in (base, f"{base}/versions", f"{base}/versions/1"):
                rows.append(Row(role, "registry", "GET", path, status_for(reads, 200, 404)))
            # notification: marking read the item's notification to the employer, and to its county's mailbox
            rows.append(Row(role, "notification", "POST", f"/inbox/{{notice:employer|{e.label}}}/read",
                            403 if role == "auditor" else status_for(role == "employer" and e == E1, 200, 404)))
            rows.append(Row(role, "notification", "POST", f"/inbox/{{notice:county|{e.label}}}/read",
                            403 if role == "auditor" else status_for(staff and covers(role, e.region_code), 200, 404)))
    return rows


ROWS = table()


def resolve(system: System, path: str) -> str:
    path = path.split(" [")[0]
    kinds = (("submission", system.submissions), ("unclassified", system.unclassified), ("case", system.cases), ("exemption", system.exemptions),
             ("plan", system.plans), ("task", system.tasks), ("screening", system.screenings), ("rectification", system.rectifications),
             ("notice", system.notices))
    for kind, ids in kinds:
        for label, value in ids.items():
            path = path.replace(f"{{{kind}:{label}}}", value)
    return path


def labels_in(service: str, body: dict[str, Any]) -> tuple[str, ...]:
    by_code = {e.credit_code: e.label for e in EMPLOYERS}
    if service == "sampling":
        codes = [m["credit_code"] for members in body["members"].values() for m in members]
    else:
        codes = [item["credit_code"] for item in body["items"]]
    return tuple(sorted({by_code[c] for c in codes}))  # a set: the POST rows add cases as the table runs


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_every_role_on_every_endpoint(system: System, row: Row) -> None:
    client: TestClient = getattr(system, row.service)
    if row.multipart:
        content: dict[str, Any] = {"data": row.body, "files": [("files", ("整改.pdf", PDF, "application/pdf"))]}
    else:
        content = {"json": row.body}
    response = client.request(row.method, resolve(system, row.path), headers=auth(row.role), **content)  # type: ignore[arg-type]
    assert response.status_code == row.expected, response.text[:500]
    if row.expected == 404:
        body = response.json()
        assert NOT_FOUND.search(body["code"]) and body["detail"], "outside the scope reads exactly like a record that does not exist"
    if row.expected == 403:
        assert response.json()["detail"], "a refusal says why"
    if row.expect_items is not None:
        assert labels_in(row.service, response.json()) == tuple(sorted(row.expect_items))


def test_out_of_scope_and_missing_records_answer_alike(system: System) -> None:
    outside = system.registry.get(f"/enterprises/{E2.credit_code}", headers=auth("county")).json()
    missing_code = credit_code("141029", "MA0EEEEE5")
    missing = system.registry.get(f"/enterprises/{missing_code}", headers=auth("county")).json()
    assert outside["code"] == missing["code"] == "errors.archive.not_found"
    assert outside["detail"].replace(E2.credit_code, "X") == missing["detail"].replace(missing_code, "X")
    case_id, missing_case = system.cases[E3.label], str(uuid.uuid4())
    case_outside = system.penalty.get(f"/cases/{case_id}", headers=auth("city")).json()
    case_missing = system.penalty.get(f"/cases/{missing_case}", headers=auth("city")).json()
    assert case_outside["code"] == case_missing["code"] and NOT_FOUND.search(case_outside["code"])
    assert case_outside["detail"].replace(case_id, "X") == case_missing["detail"].replace(missing_case, "X")


def test_the_submitter_is_in_the_log(system: System, caplog: pytest.LogCaptureFixture) -> None:
    body = report_for(E2.credit_code, E2.region_code, signed_by="王五")
    with caplog.at_level(logging.INFO, logger="services.assessment.entrypoints.http"):
        response = system.assessment.post("/reports", json=body, headers=auth("city", name="临汾市 李科长"))
    assert response.status_code == 202
    assert any("临汾市 李科长 (city 141000" in r.getMessage() and body["submission_id"] in r.getMessage() for r in caplog.records)


def test_a_refused_submission_says_why(system: System) -> None:
    county = system.assessment.post("/reports", json=new_report_body(E2), headers=auth("county")).json()
    assert county["code"] == "errors.submission.outside_jurisdiction"
    assert "141024" in county["detail"] and "管辖范围" in county["detail"] and "141029" in county["detail"]
    employer = system.assessment.post("/reports", json=new_report_body(E2), headers=auth("employer") | EN).json()
    assert employer["code"] == "errors.submission.other_employer" and "own" in employer["detail"]
    auditor = system.assessment.post("/reports", json=new_report_body(E1), headers=auth("auditor")).json()
    assert auditor["code"] == "errors.submission.auditor" and "审计人员" in auditor["detail"]
    no_region = system.penalty.post("/violations", json=violation_body(Employer("x", credit_code("141000", "MA0DDDDD4"), "")),
                                    headers=auth("county"))
    assert [e["field"] for e in no_region.json()["errors"]] == ["region_code"]


# --------------------------------------------------------------------------- 401: no token, a bad token


def forged(role: str = "province") -> str:
    return token_for(role, secret="another-province-secret-0123456789")  # type: ignore[arg-type]


def tampered() -> str:
    """A real county token whose claims were edited to a province, keeping the signature."""
    prefix, payload, signature = token_for("county").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(role="province", region="140000")
    return ".".join([prefix, _b64(json.dumps(claims).encode()), signature])


def signed_claims(claims: Any) -> str:
    """A token with these claims, correctly signed with the test secret: its claims are the only fault."""
    payload = _b64(json.dumps(claims).encode())
    return f"{TOKEN_PREFIX}.{payload}.{_signature(TEST_AUTH_SECRET, payload)}"


GOOD_CLAIMS = {"sub": "s", "name": "n", "role": "county", "region": "141029", "credit_code": None, "exp": int(time.time()) + 3600}
# hostile tokens: each must answer 401, never a 500 (a header value may be bytes: latin-1 on the wire)
HOSTILE_CREDENTIALS: dict[str, str | bytes] = {
    "signature not ASCII": f"Bearer {token_for('province')[:-2]}é".encode("latin-1"),
    "claims not ASCII": f"Bearer {TOKEN_PREFIX}.ÿÿÿ.x".encode("latin-1"),
    "control characters": b"Bearer ohs1.\x01\x02.\x7f",
    "a megabyte": f"Bearer {TOKEN_PREFIX}.{'A' * 1_000_000}.x",
    "claims not base64": f"Bearer {TOKEN_PREFIX}.%%%%.abc",
    "claims a list": f"Bearer {signed_claims([1, 2, 3])}",
    "claims a string": f"Bearer {signed_claims('province')}",
    "claims empty": f"Bearer {signed_claims({})}",
    "sub missing": f"Bearer {signed_claims({k: v for k, v in GOOD_CLAIMS.items() if k != 'sub'})}",
    "sub a number": f"Bearer {signed_claims({**GOOD_CLAIMS, 'sub': 7})}",
    "role unknown": f"Bearer {signed_claims({**GOOD_CLAIMS, 'role': 'admin'})}",
    "region a number": f"Bearer {signed_claims({**GOOD_CLAIMS, 'region': 141029})}",
    "region full-width digits": f"Bearer {signed_claims({**GOOD_CLAIMS, 'region': '１４１０２９'})}",
    "region of a city for a county": f"Bearer {signed_claims({**GOOD_CLAIMS, 'region': '141000'})}",
    "employer without a credit code": f"Bearer {signed_claims({**GOOD_CLAIMS, 'role': 'employer', 'region': None})}",
    "exp a string": f"Bearer {signed_claims({**GOOD_CLAIMS, 'exp': 'never'})}",
    "exp a float": f"Bearer {signed_claims({**GOOD_CLAIMS, 'exp': 1e300})}",
    "exp beyond 64 bits": f"Bearer {signed_claims({**GOOD_CLAIMS, 'exp': -(10 ** 30)})}",
    "four parts": f"Bearer {token_for('province')}.x",
    "other prefix": "Bearer ohs2." + token_for("province").split(".", 1)[1],
}
BAD_CREDENTIALS = {
    **HOSTILE_CREDENTIALS,
    "no token": None,
    "forged signature": f"Bearer {forged()}",
    "tampered claims": f"Bearer {tampered()}",
    "expired": f"Bearer {token_for('province', valid_days=-1)}",
    "not a token": "Bearer not-a-token",
    "not bearer": f"Basic {base64.b64encode(b'province:secret').decode()}",
}
# one request per endpoint (bodies valid, so that only the token is at fault)
ENDPOINTS = [
    ("assessment", "POST", "/reports [E1]", new_report_body(E1)),
    ("assessment", "GET", "/reports/{submission:E1-141029}", None),
    ("assessment", "GET", "/reports/{submission:E1-141029}/document", None),
    ("assessment", "GET", "/reports/{submission:E1-141029}/notice", None),
    ("registry", "GET", f"/enterprises/{E1.credit_code}", None),
    ("registry", "GET", "/enterprises", None),
    ("registry", "GET", "/reminders", None),
    ("registry", "POST", f"/enterprises/{E1.credit_code}/upgrade", {"reason": "r"}),
    ("sampling", "GET", "/pools/141029", None),
    ("sampling", "POST", "/plans", {"region_code": "141029", "period": "2026"}),
    ("sampling", "GET", "/plans/{plan:E1-141029}", None),
    ("sampling", "POST", "/plans/{plan:E1-141029}/draw", None),
    ("sampling", "GET", "/tasks?plan_id={plan:E1-141029}", None),
    ("sampling", "POST", "/tasks/{task:E1-141029}/result", SAMPLING_RESULT),
    ("sampling", "GET", "/statistics/141029", None),
    ("sampling", "PUT", "/inspectors/141029", SAMPLING_ROSTER),
    ("penalty", "POST", "/violations [E1]", violation_body(E1)),
    ("penalty", "GET", "/cases/{case:E1-141029}", None),
    ("penalty", "GET", f"/cases?credit_code={E1.credit_code}", None),
    ("penalty", "GET", "/rules/no-penalty?region_code=141029", None),
    ("penalty", "POST", "/cases/{case:E1-141029}/fine", {"fine_yuan": 10000}),
    ("penalty", "GET", "/reviews/cases?region_code=141029", None),
    ("penalty", "GET", "/screenings", None),
    ("penalty", "GET", "/screenings/{screening:E1-141029}", None),
    ("penalty", "POST", "/screenings/{screening:E1-141029}/case", None),
    ("registry", "GET", "/rectifications", None),
    ("registry", "GET", "/rectifications/{rectification:E1-141029}", None),
    ("registry", "POST", "/rectifications/{rectification:E1-141029}/submission", None),
    ("registry", "GET", "/rectifications/{rectification:E1-141029}/attachments/1", None),
    ("registry", "POST", "/rectifications/{rectification:E1-141029}/review", {"decision": "accept"}),
    ("registry", "GET", f"/enterprises/{E1.credit_code}/portrait", None),
    ("registry", "GET", f"/enterprises/{E1.credit_code}/portrait/versions", None),
    ("registry", "GET", f"/enterprises/{E1.credit_code}/portrait/versions/1", None),
    ("registry", "GET", "/figures", None),
    ("registry", "GET", "/figures.xlsx", None),
    ("notification", "GET", "/inbox", None),
    ("notification", "POST", "/inbox/{notice:employer|E1-141029}/read", None),
    ("notification", "GET", "/contacts/me", None),
    ("notification", "PUT", "/contacts/me", {"email": "zhang.san@example.cn"}),
    ("notification", "GET", "/contacts/regions/141029", None),
    ("notification", "PUT", "/contacts/regions/141029", {"email": "xiangning@example.cn"}),
]


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
@pytest.mark.parametrize(("service", "method", "path", "body"), ENDPOINTS, ids=[f"{e[1]} {e[2]}" for e in ENDPOINTS])
def test_no_token_or_a_bad_one_is_401(system: System, service: str, method: str, path: str, body: Any, credentials: str | None) -> None:
    headers = {"Authorization": credentials} if credentials else {}
    response = getattr(system, service).request(method, resolve(system, path), json=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("service", ["assessment", "registry", "sampling", "penalty", "notification"])
def test_every_route_but_the_operational_ones_needs_a_token(system: System, service: str) -> None:
    """Guards routes added later: each answers 401 without a token, whatever its parameters."""
    client: TestClient = getattr(system, service)
    checked = 0
    for path, operations in client.get("/openapi.json").json()["paths"].items():  # every documented route
        if path in OPEN_PATHS or (service == "sampling" and path in PUBLIC_PATHS) or (service == "penalty" and path in PENALTY_PUBLIC_PATHS):
            continue
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in operations:
            assert client.request(method.upper(), concrete).status_code == 401, f"{method} {path} answers without a token"
            checked += 1
    assert checked


def test_the_sampling_publication_and_verification_are_public(system: System) -> None:
    """一公开: anyone reads a plan's publication and verifies it, without a token."""
    plan = system.plans[E1.label]
    publication = system.sampling.get(f"/plans/{plan}/publication")
    assert publication.status_code == 200 and publication.json()["draw"]["seed"]
    assert system.sampling.get(f"/plans/{plan}/publication.xlsx").status_code == 200
    assert system.sampling.post("/verify", json=publication.json()).json() == {"match": True}


@pytest.mark.parametrize("service", ["assessment", "registry", "sampling", "penalty", "notification"])
def test_operations_and_docs_stay_open(system: System, service: str) -> None:
    client: TestClient = getattr(system, service)
    assert client.get("/metrics").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    assert client.get("/healthz").json()["status"] == "alive", "the process answers, whatever Kafka does"
    assert client.get("/readyz").status_code == 503, "Kafka is absent here: not ready, never 401"
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"], "the docs offer the Authorize button"


# --------------------------------------------------------------------------- tokens


def test_a_token_round_trips_its_principal() -> None:
    token = issue_token(TEST_AUTH_SECRET, "county", "乡宁县 张三", region_code="141029", subject="u-1")
    assert verify_token(TEST_AUTH_SECRET, token) == Principal("u-1", "乡宁县 张三", "county", "141029", None)
    employer = verify_token(TEST_AUTH_SECRET, token_for("employer"))
    assert (employer.role, employer.credit_code, employer.region_code) == ("employer", EXAMPLE_EMPLOYER, None)


def test_a_token_expires() -> None:
    token = token_for("city", valid_days=1)
    assert verify_token(TEST_AUTH_SECRET, token, now=time.time() + 86400 - 60).role == "city"
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(TEST_AUTH_SECRET, token, now=time.time() + 86400 + 60)


def test_a_forged_or_tampered_token_is_refused() -> None:
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_token(TEST_AUTH_SECRET, forged())
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_token(TEST_AUTH_SECRET, tampered())
    prefix, payload, signature = token_for("county").split(".")
    with pytest.raises(InvalidToken, match="bad signature"):
        other = "B" if signature[-1] == "A" else "A"  # always a different signature (a fixed "AA" was the real one 1 in 4,096 times)
        verify_token(TEST_AUTH_SECRET, f"{prefix}.{payload}.{signature[:-1]}{other}")
    with pytest.raises(InvalidToken, match="not an ohs token"):
        verify_token(TEST_AUTH_SECRET, f"jwt.{payload}.{signature}")


def test_a_correctly_signed_token_with_an_impossible_scope_is_refused() -> None:
    claims = {"sub": "x", "name": "x", "role": "county", "region": "141000", "credit_code": None, "exp": int(time.time()) + 60}
    payload = _b64(json.dumps(claims).encode())
    with pytest.raises(InvalidToken, match="invalid scope"):
        verify_token(TEST_AUTH_SECRET, f"{TOKEN_PREFIX}.{payload}.{_signature(TEST_AUTH_SECRET, payload)}")


@pytest.mark.parametrize(
    ("role", "scope", "problem"),
    [("county", "141000", "county-level"), ("city", "141029", "city-level"), ("province", "141000", "province-level"),
     ("employer", "91141029MA0GRT8U3X", "check character"), ("auditor", "99", "6-digit")],
)
def test_tokens_are_issued_only_for_a_coherent_scope(role: str, scope: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        token_for(role, scope)  # type: ignore[arg-type]


def test_no_token_is_issued_or_trusted_with_an_empty_secret(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="OHS_AUTH_SECRET"):
        issue_token("", "province", "x", region_code="140000")
    claims = {"sub": "x", "name": "x", "role": "province", "region": "140000", "credit_code": None, "exp": int(time.time()) + 60}
    payload = _b64(json.dumps(claims).encode())
    signed_with_nothing = f"{TOKEN_PREFIX}.{payload}.{_signature('', payload)}"
    app = sampling_bootstrap(settings_for("sampling", data_dir=tmp_path, auth_secret=""), create_topics=False)
    response = TestClient(app).get("/pools/141029", headers={"Authorization": f"Bearer {signed_with_nothing}"})
    assert response.status_code == 503


@pytest.mark.parametrize("secret", ["", "short"])
async def test_a_service_refuses_to_start_without_a_usable_secret(tmp_path: Path, secret: str) -> None:
    app = registry_bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret=secret), create_topics=False)
    with pytest.raises(RuntimeError, match="registry will not start: OHS_AUTH_SECRET"):
        await app.state.runtime.start()


def test_the_default_scopes_match_make_run() -> None:
    assert DEFAULT_SCOPES == {"province": "140000", "city": "141000", "county": "141029", "auditor": "141000", "employer": EXAMPLE_EMPLOYER}


# --------------------------------------------------------------------------- an organisation's token (issue 17)

ORG_CODE = credit_code("140000", "MA0RGAN01")  # a technical service organisation accredited by 山西省


def organisation_auth() -> dict[str, str]:
    token = issue_token(TEST_AUTH_SECRET, "organisation", "山西示例职业卫生技术服务有限公司", credit_code=ORG_CODE, region_code="140000",
                        subject="test-organisation", valid_days=1)
    return {"Authorization": f"Bearer {token}"}


# what any valid token (or none) reads: the region tree, the no-penalty list, the sampling publications and /verify
ANY_TOKEN = re.compile(r"^/regions/|^/rules/no-penalty|/publication(\.xlsx)?$|^/verify$|^/audit/chain/141000/verify$")
ORG_ROWS = list({(r.service, r.method, r.path): r for r in ROWS}.values())


@pytest.mark.parametrize("row", ORG_ROWS, ids=[f"organisation {r.method} {r.service}{r.path}" for r in ORG_ROWS])
def test_an_organisation_reads_and_acts_for_no_employer(system: System, row: Row) -> None:
    """Every route of the matrix, with an organisation's token (accredited province-wide, so a region check alone would
    let it in): it is refused (403, or 404 like a record that does not exist), or reads what any token reads, or a
    listing with nothing in it. It files for employers and reads its own filings and rating on its own routes only."""
    client: TestClient = getattr(system, row.service)
    content: dict[str, Any] = ({"data": row.body, "files": [("files", ("整改.pdf", PDF, "application/pdf"))]} if row.multipart
                               else {"json": row.body})
    response = client.request(row.method, resolve(system, row.path), headers=organisation_auth(), **content)  # type: ignore[arg-type]
    path = resolve(system, row.path)
    if ANY_TOKEN.search(path.split("?")[0]):
        assert response.status_code == row.expected, response.text[:300]
        return
    if response.status_code == 200 and row.method == "GET" and row.expect_items is not None:
        assert labels_in(row.service, response.json()) == (), response.text[:300]
        return
    assert response.status_code in (403, 404), f"{response.status_code}: {response.text[:300]}"
    if response.status_code == 404:
        assert NOT_FOUND.search(response.json()["code"]), response.text[:300]


def test_an_organisation_files_for_employers_of_its_region_and_reads_only_its_own(system: System) -> None:
    body = {"credit_code": E1.credit_code, "report_no": "ACCESS-1", "factor": "矽尘", "post": "破碎工", "compliant": True,
            "result": "C-TWA 0.6 mg/m³", "tested_on": (china_today() - timedelta(days=2)).isoformat()}  # in time: 5 stars
    assert system.penalty.post("/org/test-reports", json=body, headers=organisation_auth()).status_code in (200, 201)
    outside = system.penalty.post("/org/test-reports", json={**body, "credit_code": E4.credit_code, "report_no": "ACCESS-2"},
                                  headers=organisation_auth())
    assert outside.status_code == 403 and outside.json()["code"] == "penalty.error.org.outside_region"
    for role in ROLES:  # nobody else files, and nobody else reads the organisation's own list
        assert system.penalty.post("/org/test-reports", json=body, headers=auth(role)).status_code == 403
        assert system.penalty.get("/org/filings", headers=auth(role)).status_code == 403
    assert [i["number"] for i in system.penalty.get("/org/filings", headers=organisation_auth()).json()["items"]] == ["ACCESS-1"]
    assert system.penalty.get(f"/orgs/{ORG_CODE}/rating", headers=organisation_auth()).json()["stars"] == 5
    assert system.penalty.get("/public/org-ratings").status_code == 200  # no token
