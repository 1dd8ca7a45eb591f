"""Non-site facts in the risk portrait (issue 17 items 2 and 4): an online monitoring exceedance episode, a test result an
organisation filed as not compliant and an examination summary with suspected occupational disease each enter the
employer's portrait in the dimension the rule data's ``nonsite`` section names (hazard exposure, testing, health
examinations), traced per kind with the rule version; the same events delivered again change nothing; a closed
episode stays closed whatever arrives late. The registry as bootstrap wires it, on FastStream's in-memory broker."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlmodel import Session

from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import ExamSummaryFiled, ExceedanceDetected, RuleSetRef, TraceEntry
from shared.contracts import TestReportFiled as ReportFiled  # (a Test… name would look like a test class to pytest)
from shared.dates import china_today
from shared.runtime import Runtime
from tests.unit.registry.test_credit_feed import CODE, OCCURRED, classified, deliver, runtime  # noqa: F401 - runtime: the fixture

LAB = "91140100MA0LAB0017"
TODAY = china_today(OCCURRED)
EPISODE = uuid.uuid4()


def episode(status: str = "open") -> ExceedanceDetected:
    return ExceedanceDetected(
        producer="monitoring", credit_code=CODE, occurred_at=OCCURRED + timedelta(hours=1 if status == "open" else 2), episode_id=EPISODE,
        status=status, region_code="141029", device_id="dust-07", factor="矽尘", kind="dust", post="破碎工", measure="twa", limit=1.0,
        unit="mg/m³", observed=1.8, started_at=OCCURRED, shift_day=TODAY,
        rule_set=RuleSetRef(jurisdiction="CN", version="2026.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="GBZ 2.1", detail="C-TWA 1.8 > 1.0")])


def filed_test(compliant: bool) -> ReportFiled:
    return ReportFiled(producer="penalty", credit_code=CODE, occurred_at=OCCURRED + timedelta(hours=3), org_id=LAB,
                       report_no="JC-2026-88", factor="噪声", post="冲压工", compliant=compliant, result="L_EX,8h 91 dB(A)",
                       tested_on=TODAY - timedelta(days=5), filed_on=TODAY)


def exam(suspected: int) -> ExamSummaryFiled:
    return ExamSummaryFiled(producer="penalty", credit_code=CODE, occurred_at=OCCURRED + timedelta(hours=4), org_id=LAB, summary_no="TJ-9",
                            examined_on=TODAY - timedelta(days=3), examined=40, abnormal=3, suspected_occupational_disease=suspected,
                            filed_on=TODAY)


def portrait(runtime: Runtime) -> tuple[int, dict, list]:
    with Session(runtime.engine) as session:
        uow = RegistryUnitOfWork.joining(session)
        record = uow.portraits.get(CODE)
        row = uow.portraits.version(CODE, record.version)
        return record.version, {d["name"]: d for d in row.dimensions}, row.trace


async def test_an_exceedance_and_organisations_filings_enter_the_portrait(runtime: Runtime) -> None:
    await deliver(runtime, classified("乙"))
    first, before, _ = portrait(runtime)

    await deliver(runtime, episode("open"), filed_test(False), exam(2))
    version, dimensions, trace = portrait(runtime)
    assert version > first
    assert f"exceedance:{EPISODE}" in [e["code"] for e in dimensions["hazard_exposure"]["shortcomings"]]
    assert [e["code"] for e in dimensions["testing"]["shortcomings"] if e["code"].startswith("test_report:")] == [f"test_report:{LAB}|JC-2026-88|噪声"]
    [exam_entry] = [e for e in dimensions["health_examinations"]["shortcomings"] if e["code"].startswith("exam_summary:")]
    assert "疑似职业病 2 人" in exam_entry["text"] and exam_entry["source"] == f"organisation {LAB}"
    nonsite = {t["code"]: t for t in trace if t.get("code", "").startswith("registry.portrait.trace.nonsite_")}
    assert sorted(nonsite) == ["registry.portrait.trace.nonsite_exam_suspected", "registry.portrait.trace.nonsite_exceedance",
                               "registry.portrait.trace.nonsite_test_not_compliant"]
    assert dimensions["hazard_exposure"]["level"] == "high" and before["hazard_exposure"]["level"] != "low"

    await deliver(runtime, episode("closed"), episode("open"), exam(2))  # closed; the open one again late; a filing again
    after, dimensions, _ = portrait(runtime)
    [entry] = [e for e in dimensions["hazard_exposure"]["shortcomings"] if e["code"] == f"exceedance:{EPISODE}"]
    assert "closed" in entry["text"] and after == version + 1  # closed within the lookback: still counted, now says closed


async def test_a_compliant_test_and_a_summary_without_suspected_disease_add_nothing(runtime: Runtime) -> None:
    await deliver(runtime, classified("乙"))
    first, before, _ = portrait(runtime)
    await deliver(runtime, filed_test(True), exam(0))
    version, dimensions, _ = portrait(runtime)
    assert version == first and dimensions == before
