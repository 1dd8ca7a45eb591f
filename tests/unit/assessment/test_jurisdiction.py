"""Who may submit an archived employer's report (RULES §5a): the archive's region, not the report's.

The assessment keeps where the registry's archive has each employer (``ohs.registry.classification-changed``,
the highest archive version). Once archived in R, staff act for it only if their token covers R —
anyone else reads it as absent (404) — and a report naming another region is accepted but only asks
the registry for a move. Told on fake units of work, then through the HTTP API."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.assessment.adapters.rules import load_assessment_rules
from services.assessment.bootstrap import bootstrap
from services.assessment.service_layer import handlers
from services.registry.service_layer.handlers import archive_classification
from shared.auth import Principal
from shared.contracts import (
    AssessmentClassified,
    ClassificationChanged,
    Report,
    ReportSubmitted,
)
from shared.identifiers import credit_code_check_character
from tests.examples import EXAMPLE_REPORT
from tests.support import app_without_broker, auth
from tests.unit.assessment.fakes import FakeUnitOfWork
from tests.unit.registry.fakes import FakeUnitOfWork as FakeRegistryUnitOfWork

HOUMA_EMPLOYER = "91141081MA0GRT8U3" + credit_code_check_character("91141081MA0GRT8U3")  # an employer of 侯马市 141081
TODAY = date(2023, 6, 12)
XIANGNING = Principal(subject="c1", name="乡宁县 王科员", role="county", region_code="141029")
HOUMA = Principal(subject="c3", name="侯马市 孙科员", role="county", region_code="141081")
LINFEN = Principal(subject="c4", name="临汾市 李科长", role="city", region_code="141000")
AUDITOR = Principal(subject="a1", name="临汾市 审计", role="auditor", region_code="141000")
ITSELF = Principal(subject="e1", name="侯马市某化工", role="employer", credit_code=HOUMA_EMPLOYER)


def report(region: str, credit_code: str = HOUMA_EMPLOYER, **changes: Any) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["submission_id"] = str(uuid.uuid4())
    data["enterprise"].update(credit_code=credit_code, region_code=region)
    data.update(changes)
    return Report.model_validate(data)


def changed(region: str, version: int, credit_code: str = HOUMA_EMPLOYER) -> ClassificationChanged:
    return ClassificationChanged(
        producer="registry", credit_code=credit_code, enterprise_name="侯马市某化工有限公司", region_code=region,
        archive_version=version, previous_category=None, category="丙", hazard_grade="Ⅲ", management_grade="B",
        submission_id=None, reason="first archive",
    )


def archived_in(region: str) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    handlers.record_archived_employer(uow, changed(region, 1))
    return uow


# --------------------------------------------------------------------------- the projection


def test_the_archive_region_of_the_highest_version_is_kept() -> None:
    uow = FakeUnitOfWork()

    handlers.record_archived_employer(uow, changed("141081", 1))
    handlers.record_archived_employer(uow, changed("141024", 3))  # moved (RULES §5a)
    handlers.record_archived_employer(uow, changed("141081", 2))  # an older announcement, late
    handlers.record_archived_employer(uow, changed("141024", 3))  # redelivered

    known = uow.archived_employers.get(HOUMA_EMPLOYER)
    assert (known.region_code, known.archive_version) == ("141024", 3)  # type: ignore[union-attr]
    assert not uow.committed and uow.published == [], "the consumer commits, with the inbox mark"


# --------------------------------------------------------------------------- the refused write


def test_county_staff_cannot_take_another_countys_archived_employer_by_naming_their_own_region() -> None:
    uow = archived_in("141081")

    with pytest.raises(handlers.NotInJurisdiction, match=f"employer {HOUMA_EMPLOYER} in your jurisdiction"):
        handlers.submit_report(uow, report("141029"), XIANGNING, TODAY)

    assert len(uow.submissions) == 0 and uow.published == [] and not uow.committed


def test_before_the_archive_knows_the_employer_the_reports_region_decides_as_before() -> None:
    uow = FakeUnitOfWork()

    assert handlers.submit_report(uow, report("141029"), XIANGNING, TODAY).new
    with pytest.raises(handlers.SubmissionRefused, match="141081"):
        handlers.submit_report(FakeUnitOfWork(), report("141081"), XIANGNING, TODAY)


# --------------------------------------------------------------------------- what stays allowed: it asks for a move


@pytest.mark.parametrize("principal", [HOUMA, LINFEN, ITSELF], ids=["its county", "its city", "itself"])
def test_the_employer_or_staff_covering_its_archive_may_report_another_region(principal: Principal) -> None:
    uow = archived_in("141081")

    accepted = handlers.submit_report(uow, report("141024"), principal, TODAY)

    assert accepted.new and uow.committed
    [event] = uow.published
    assert isinstance(event, ReportSubmitted) and event.report.enterprise.region_code == "141024", "the registry decides the move"


def test_an_auditor_or_another_employer_is_still_refused_with_the_reason() -> None:
    uow = archived_in("141081")
    for principal, reason in ((AUDITOR, "auditor"), (Principal("e9", "x", "employer", credit_code=EXAMPLE_REPORT["enterprise"]["credit_code"]), "own")):
        with pytest.raises(handlers.SubmissionRefused, match=reason):
            handlers.submit_report(uow, report("141081"), principal, TODAY)


def test_an_employer_naming_a_region_outside_the_province_is_accepted_and_stays_in_its_county() -> None:
    """The story across assessment and registry: the report goes through, the registry keeps the
    employer in 侯马市 and refuses the move at once (no county of the platform can confirm it)."""
    assessment = archived_in("141081")
    registry = FakeRegistryUnitOfWork()
    archive_classification(registry, AssessmentClassified.model_validate(_classified(report("141081"))))

    accepted = handlers.submit_report(assessment, report("110101"), ITSELF, TODAY)
    [submitted] = assessment.published
    handlers.classify_submission(assessment, submitted, load_assessment_rules())  # type: ignore[arg-type]
    [classified] = [e for e in assessment.published if isinstance(e, AssessmentClassified)]
    archive_classification(registry, classified)

    assert accepted.new and classified.region_code == "110101"
    record = registry.enterprises.get(HOUMA_EMPLOYER)
    assert record.region_code == "141081" and record.latest_version == 2  # type: ignore[union-attr]
    [transfer] = registry.transfers.rows
    assert (transfer.to_region, transfer.status) == ("110101", "refused")
    assert "地区 110101 不是本平台的县级地区" in transfer.reason  # type: ignore[operator]
    assert all(e.region_code == "141081" for e in registry.published if isinstance(e, ClassificationChanged))


def _classified(source: Report) -> dict[str, Any]:
    """A classified event for ``source`` (the registry's first archive of the employer)."""
    uow = FakeUnitOfWork()
    accepted = handlers.accept_report(uow, source, TODAY)
    event = ReportSubmitted(producer="assessment", credit_code=source.enterprise.credit_code, submission_id=uuid.UUID(accepted.submission.submission_id),
                            received_at=datetime(2023, 6, 12, 1, tzinfo=timezone.utc), report=source)
    handlers.classify_submission(uow, event, load_assessment_rules())
    [classified] = [e for e in uow.published if isinstance(e, AssessmentClassified)]
    return classified.model_dump(mode="json")


# --------------------------------------------------------------------------- through HTTP


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("assessment-jurisdiction")
    app = app_without_broker(bootstrap, "assessment", folder)
    runtime = app.state.runtime
    with runtime.uow() as uow:
        handlers.record_archived_employer(uow, changed("141081", 1))
        uow.commit()
    yield TestClient(app)
    runtime.engine.dispose()


def test_http_county_staff_reporting_another_countys_employer_get_404_and_nothing_is_kept(client: TestClient) -> None:
    body = report("141029").model_dump(mode="json")

    refused = client.post("/reports", json=body, headers=auth("county", "141029"))

    assert refused.status_code == 404 and refused.json()["code"] == "errors.employer.not_in_jurisdiction"
    assert refused.json()["detail"] == f"您的管辖范围内没有统一社会信用代码为 {HOUMA_EMPLOYER} 的用人单位"
    assert client.get(f"/reports/{body['submission_id']}", headers=auth("province")).status_code == 404, "nothing stored"


def test_http_the_employer_reporting_a_region_outside_the_platform_is_accepted(client: TestClient) -> None:
    body = report("110101").model_dump(mode="json")

    accepted = client.post("/reports", json=body, headers=auth("employer", HOUMA_EMPLOYER))

    assert accepted.status_code == 202, accepted.text
    assert client.get(f"/reports/{body['submission_id']}", headers=auth("county", "141081")).status_code == 404, (
        "a submission is read by the region it names; the archive keeps the employer in 141081 (the registry's part)")


def test_http_staff_of_the_archive_region_may_report_a_move(client: TestClient) -> None:
    body = report("141024").model_dump(mode="json")
    assert client.post("/reports", json=body, headers=auth("county", "141081")).status_code == 202
