"""The risk portrait (风险画像, 一企一案): drawn from the events only, six dimensions with their levels and the
shortcomings behind them, a new version only when the content changes, the same portrait after a replay
— and over HTTP for the employer itself and the staff of its county."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4, uuid5

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.adapters.rules import PACKAGED_INDUSTRY_DIR, load_portrait_rules
from services.registry.bootstrap import bootstrap
from services.registry.domain.portrait import PortraitRuleBook, dimension_in
from services.registry.service_layer import portrait
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import (
    AssessmentClassified,
    FactorGrade,
    Flag,
    LostPoints,
    PenaltyDecided,
    PortraitChanged,
    RectificationProgressed,
    RuleSetRef,
    TraceEntry,
)
from shared.dates import CHINA
from shared.migrations import upgrade
from shared.rule_data import RuleDataError
from shared.settings import settings_for
from tests.unit.registry.fakes import FakeUnitOfWork
from tests.unit.registry.test_override_http import SECRET, code, header

CODE = code(801)  # 乡宁县 141029
RULES = load_portrait_rules()
_ITEMS = UUID("0f0e0d0c-0b0a-4908-8706-050403020100")


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA)


def report(assessed_on: str, classified_at: datetime, *, lost: tuple[str, ...] = ("4.3",), test_status: str = "expired",
           hazard_grade: str = "Ⅱ", region: str = "141029", flags: tuple[str, ...] = ()) -> AssessmentClassified:
    titles = {"4.3": "检测评价结果存档、上报、公布", "6.2": "劳动者上岗前和在岗期间培训", "7.1": "职业健康检查"}
    return AssessmentClassified(
        producer="assessment", credit_code=CODE, submission_id=uuid4(), enterprise_name="乡宁县示例水泥有限公司", region_code=region,
        industry_codes=["C3021"], employees=86, assessed_on=date.fromisoformat(assessed_on), hazard_grade=hazard_grade,
        management_grade="B", score=85.0, category="乙", occurred_at=classified_at,
        factors=[FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=test_status == "valid", exposed=24,
                             headcount_band="10–49", grade=hazard_grade, declared_compliant=True, test_status=test_status)],
        lost_points=[LostPoints(item=item, title=titles[item], earned=0, points=3) for item in lost],
        flags=[Flag(code=flag, message=f"{flag}: 公示不足 5 个工作日") for flag in flags],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3", detail="→ 乙")],
    )


def item_id(source: AssessmentClassified, shortcoming_code: str) -> UUID:
    return uuid5(_ITEMS, f"{source.submission_id}|{shortcoming_code}")


def step(source: AssessmentClassified, shortcoming_code: str, name: str, on: str, status: str) -> RectificationProgressed:
    """A step of the rectification item raised from ``source``'s shortcoming, as the registry's loop announces it."""
    shortcoming = next(s for s in source.shortcomings if s.code == shortcoming_code)
    return RectificationProgressed(
        producer="registry", credit_code=CODE, item_id=item_id(source, shortcoming_code), region_code="141029",
        shortcoming_code=shortcoming.code, shortcoming_text=shortcoming.text, submission_id=source.submission_id, step=name,  # type: ignore[arg-type]
        status=status, on=date.fromisoformat(on), deadline=date(2026, 6, 15), actor="system", occurred_at=at(on, 11),  # type: ignore[arg-type]
    )


def decided(decision: str, on: str, case_code: str) -> PenaltyDecided:
    return PenaltyDecided(producer="penalty", credit_code=CODE, case_id=uuid5(_ITEMS, case_code), item_code="70-1", decision=decision,  # type: ignore[arg-type]
                          reasons=["初次轻微"], trace=[], case_code=case_code, region_code="141029", occurred_at=at(on, 15))


def handle(uow: Any, event: Any, rules: PortraitRuleBook = RULES) -> None:
    """The portrait group's handler for the event (as bootstrap subscribes them)."""
    if isinstance(event, AssessmentClassified):
        portrait.classified(uow, event, rules)
    elif isinstance(event, RectificationProgressed):
        portrait.rectification_progressed(uow, event, rules)
    elif isinstance(event, PenaltyDecided):
        portrait.penalty_decided(uow, event, rules)


def apply(uow: FakeUnitOfWork, event: Any, rules: PortraitRuleBook = RULES) -> None:
    """What the consumer does in the portrait group: the handler, once per event id (its inbox)."""
    if uow.seen(str(event.event_id), portrait.GROUP_SUFFIX):
        return
    handle(uow, event, rules)
    uow.mark_seen(str(event.event_id), event.topic, portrait.GROUP_SUFFIX)


def current(uow: FakeUnitOfWork) -> tuple[int, dict[str, Any]]:
    record = uow.portraits.get(CODE)
    assert record is not None
    row = uow.portraits.version(CODE, record.version)
    return record.version, {"rule_set": row.rule_set, "dimensions": row.dimensions}  # type: ignore[union-attr]


def dimension(content: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d for d in content["dimensions"] if d["name"] == name)


HAN = re.compile(r"[\u3400-\u9fff]")


def as_written(shortcomings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The shortcomings as the portrait's content hashes them (each entry's message says the same in other words)."""
    return [{key: value for key, value in entry.items() if key != "message"} for entry in shortcomings]


def codes(content: dict[str, Any], name: str) -> list[str]:
    return [s["code"] for s in dimension(content, name)["shortcomings"]]


# --------------------------------------------------------------------------- the story


def test_a_report_draws_the_portrait_and_a_cleared_item_improves_it_in_a_new_version() -> None:
    uow = FakeUnitOfWork()
    first = report("2026-05-20", at("2026-06-01"))
    apply(uow, first)

    version, content = current(uow)
    assert version == 1
    assert [(d["name"], d["title"], d["level"]) for d in content["dimensions"]] == [
        ("hazard_exposure", "危害接触", "medium"),  # grade Ⅱ → medium
        ("testing", "检测评价", "high"),  # 4.3 (weight 1) + an expired test (weight 2) = 3 ≥ 3
        ("health_examinations", "职业健康检查", "low"),
        ("training", "培训", "low"),
        ("management", "管理", "low"),
        ("enforcement_history", "执法记录", "low"),
    ]
    assert as_written(dimension(content, "testing")["shortcomings"]) == [
        {"code": "checklist:4.3", "text": "自查表 4.3 检测评价结果存档、上报、公布: 得分 0 / 3", "source": f"report {first.submission_id}",
         "since": "2026-05-20"},
        {"code": "test_expired:矽尘", "text": "矽尘: 工作场所职业病危害因素检测已过期 (严重, 接触 24 人)", "source": f"report {first.submission_id}",
         "since": "2026-05-20"},
    ]
    # each shortcoming keeps its message (the report's code and values): the portrait reads in English on request
    english = dimension_in(dimension(content, "testing"), "en")
    assert english["title"] == "testing" and english["level_title"] == "高 (high)"
    assert english["shortcomings"][0]["source"] == f"report {first.submission_id}" and not HAN.search(english["shortcomings"][0]["text"].replace("检测评价结果存档、上报、公布", ""))
    assert codes(content, "hazard_exposure") == ["hazard_grade"]  # the level is explained by the report's hazard grade
    assert content["rule_set"]["version"] == "2021.1" and content["rule_set"]["provisional"] is True
    (announced,) = uow.events(PortraitChanged)
    assert (announced.version, announced.region_code, announced.enterprise_name) == (1, "141029", "乡宁县示例水泥有限公司")
    assert {d.name: (d.level, d.shortcomings) for d in announced.dimensions}["testing"] == ("high", 2)
    assert announced.reason.startswith(f"评估报告 {first.submission_id}（评估日期 2026年5月20日）后首次形成风险画像：危害接触 中、检测评价 高")
    assert announced.text("en").startswith(f"first portrait after report {first.submission_id} (assessed 2026-05-20): hazard exposure 中 (medium)")

    # the loop raises an item per shortcoming: the same shortcomings, the same portrait — no new version
    for shortcoming_code in ("checklist:4.3", "test_expired:矽尘"):
        apply(uow, step(first, shortcoming_code, "raised", "2026-06-01", "open"))
    apply(uow, step(first, "checklist:4.3", "submitted", "2026-06-05", "submitted"))
    assert current(uow)[0] == 1 and len(uow.events(PortraitChanged)) == 1

    # staff accept the correction of 4.3: 解除, it leaves the portrait, testing improves, version 2
    apply(uow, step(first, "checklist:4.3", "cleared", "2026-06-08", "cleared"))
    version, content = current(uow)
    assert version == 2
    assert dimension(content, "testing")["level"] == "medium" and codes(content, "testing") == ["test_expired:矽尘"]
    changed = uow.events(PortraitChanged)[-1]
    assert changed.version == 2 and "检测评价 高 → 中" in changed.reason and "检测评价 移除 checklist:4.3" in changed.reason
    assert f"整改事项 {item_id(first, 'checklist:4.3')} 解除" in changed.reason
    assert "testing 高 (high) → 中 (medium); testing − checklist:4.3" in changed.text("en")
    assert f"rectification item {item_id(first, 'checklist:4.3')} cleared" in changed.text("en")
    assert [v.version for v in uow.portraits.versions(CODE)] == [1, 2]  # each version kept

    # the same event again (a redelivery past the inbox), or any recomputation: unchanged, no new version
    portrait.rectification_progressed(uow, step(first, "checklist:4.3", "cleared", "2026-06-08", "cleared"), RULES)
    assert portrait.redraw(uow, CODE, RULES, at("2026-06-09"), "a recomputation") is None
    assert current(uow)[0] == 2 and len(uow.events(PortraitChanged)) == 2


def test_an_open_item_stays_until_cleared_and_a_later_report_shows_what_it_discloses() -> None:
    uow = FakeUnitOfWork()
    first = report("2026-05-20", at("2026-06-01"))
    apply(uow, first)
    apply(uow, step(first, "test_expired:矽尘", "raised", "2026-06-01", "open"))
    apply(uow, step(first, "checklist:4.3", "raised", "2026-06-01", "open"))
    apply(uow, step(first, "checklist:4.3", "cleared", "2026-06-08", "cleared"))

    # a new report: tests valid, 4.3 lost again, 6.2 lost; the old test item is still open
    second = report("2026-09-01", at("2026-09-05"), lost=("4.3", "6.2"), test_status="valid")
    apply(uow, second)
    _, content = current(uow)
    testing = dimension(content, "testing")["shortcomings"]
    assert [(s["code"], s["source"]) for s in testing] == [
        ("test_expired:矽尘", f"report {first.submission_id}"),  # its item is not cleared: it stays
        ("checklist:4.3", f"report {second.submission_id}"),  # cleared before this assessment found it again
    ]
    assert codes(content, "training") == ["checklist:6.2"] and dimension(content, "training")["level"] == "high"  # 6.2 weighs 3

    # an older assessment arriving late goes to history: it does not replace the current report
    apply(uow, report("2025-01-10", at("2026-09-06"), lost=("7.1",)))
    _, later = current(uow)
    assert codes(later, "health_examinations") == [] and later == content


def test_enforcement_history_counts_the_decisions_within_the_lookback() -> None:
    uow = FakeUnitOfWork()
    apply(uow, report("2026-05-20", at("2026-06-01"), lost=(), test_status="valid", hazard_grade="Ⅰ"))
    _, content = current(uow)
    assert {d["level"] for d in content["dimensions"]} == {"low"}

    apply(uow, decided("penalty", "2023-05-01", "XN-2023-0007"))  # more than 3 years before the portrait's day: not counted
    assert current(uow)[0] == 1
    apply(uow, decided("no_penalty", "2026-06-10", "XN-2026-0042"))
    _, content = current(uow)
    history = dimension(content, "enforcement_history")
    assert history["level"] == "medium"
    assert as_written(history["shortcomings"]) == [{"code": "case:XN-2026-0042", "text": "违法事项 70-1：不予处罚（责令改正、教育引导）",
                                                    "source": "case XN-2026-0042", "since": "2026-06-10"}]
    assert dimension_in(history, "en")["shortcomings"][0] | {"message": None} == {
        "code": "case:XN-2026-0042", "text": "item 70-1: no penalty (order to correct, education and guidance)", "source": "case XN-2026-0042",
        "since": "2026-06-10", "message": None}
    apply(uow, decided("penalty", "2026-07-01", "XN-2026-0051"))
    version, content = current(uow)
    assert version == 3 and dimension(content, "enforcement_history")["level"] == "high"
    assert codes(content, "enforcement_history") == ["case:XN-2026-0042", "case:XN-2026-0051"]
    assert "执法记录 中 → 高" in uow.events(PortraitChanged)[-1].reason


def story() -> list[Any]:
    first = report("2026-05-20", at("2026-06-01"), flags=("publicity_short",))
    second = report("2026-09-01", at("2026-09-05"), lost=("6.2",), test_status="missing", hazard_grade="Ⅲ")
    return [
        first,
        step(first, "checklist:4.3", "raised", "2026-06-01", "open"),
        step(first, "test_expired:矽尘", "raised", "2026-06-01", "open"),
        step(first, "publicity_short", "raised", "2026-06-01", "open"),
        step(first, "checklist:4.3", "submitted", "2026-06-05", "submitted"),
        step(first, "checklist:4.3", "cleared", "2026-06-08", "cleared"),
        step(first, "publicity_short", "overdue", "2026-06-16", "overdue"),
        decided("no_penalty", "2026-06-20", "XN-2026-0042"),
        second,
        step(second, "checklist:6.2", "raised", "2026-09-05", "open"),
        step(first, "test_expired:矽尘", "cleared", "2026-09-10", "cleared"),
    ]


def test_replaying_the_topics_into_an_empty_registry_rebuilds_the_same_portrait() -> None:
    events = story()
    live = FakeUnitOfWork()
    for event in events:
        apply(live, event)
    version, content = current(live)
    assert [(d["name"], d["level"]) for d in content["dimensions"]] == [
        ("hazard_exposure", "high"), ("testing", "high"), ("health_examinations", "low"), ("training", "high"), ("management", "medium"),
        ("enforcement_history", "medium"),
    ]
    assert codes(content, "testing") == ["test_missing:矽尘"] and codes(content, "management") == ["publicity_short"]  # overdue, not cleared

    replayed = FakeUnitOfWork()  # the same topics into an empty registry
    for event in events:
        apply(replayed, event)
    assert current(replayed) == (version, content)
    assert [(v.version, v.content_hash, v.reason) for v in replayed.portraits.versions(CODE)] == \
        [(v.version, v.content_hash, v.reason) for v in live.portraits.versions(CODE)]
    assert [e.event_id for e in replayed.events(PortraitChanged)] == [e.event_id for e in live.events(PortraitChanged)]  # consumers dedupe

    # on a replay the topics interleave otherwise (each keeps its own order): the same portrait in the end
    topics_apart = [e for topic in (RectificationProgressed.topic, PenaltyDecided.topic, AssessmentClassified.topic) for e in events if e.topic == topic]
    interleaved = FakeUnitOfWork()
    for event in topics_apart:
        apply(interleaved, event)
    assert current(interleaved)[1] == content

    # every event delivered again, past the inbox: nothing changes
    for event in events:
        handle(live, event)
    assert current(live) == (version, content) and len(live.events(PortraitChanged)) == version


# --------------------------------------------------------------------------- rule data


def test_an_agency_replaces_the_portrait_rules_and_a_bad_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    folder = tmp_path / "portrait"
    folder.mkdir()
    packaged = json.loads((PACKAGED_INDUSTRY_DIR / "portrait-2021.json").read_text(encoding="utf-8"))
    shanxi = {**packaged, "jurisdiction": "140000", "version": "2026.1", "effective_from": "2026-01-01", "provisional": False,
              "shortcomings": {**packaged["shortcomings"], "checklist:4.3": {"dimension": "testing", "weight": 3}}}
    (folder / "shanxi.json").write_text(json.dumps(shanxi, ensure_ascii=False), encoding="utf-8")
    rules = load_portrait_rules(tmp_path)
    assert rules.in_force("141029", date(2026, 6, 1)).version == "2026.1"
    assert rules.in_force("330102", date(2026, 6, 1)).version == "2021.1"  # another province keeps the packaged rules

    uow = FakeUnitOfWork()
    apply(uow, report("2026-05-20", at("2026-06-01"), test_status="valid"), rules)  # 4.3 alone now weighs 3
    _, content = current(uow)
    assert dimension(content, "testing")["level"] == "high" and content["rule_set"]["jurisdiction"] == "140000"

    (folder / "shanxi.json").write_text(json.dumps({**shanxi, "dimensions": packaged["dimensions"][:5]}, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RuleDataError, match=r"shanxi.json is invalid:\n  - dimensions: .*missing enforcement_history"):
        load_portrait_rules(tmp_path)


# --------------------------------------------------------------------------- HTTP


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret=SECRET), create_topics=False)
    runtime = app.state.runtime
    upgrade("registry", runtime.engine)
    yield TestClient(app)  # not entered: no lifespan, no Kafka
    runtime.engine.dispose()


def test_the_employer_and_the_staff_of_its_county_read_the_portrait_and_its_versions(client: TestClient) -> None:
    app: Any = client.app
    first = report("2026-05-20", at("2026-06-01"))
    with Session(app.state.runtime.engine) as session:  # the archive, then the portrait group's handlers, as the consumers would
        uow = RegistryUnitOfWork.joining(session)
        archive_classification(uow, first, app.state.regions)
        for event in (first, step(first, "checklist:4.3", "raised", "2026-06-01", "open"), step(first, "checklist:4.3", "cleared", "2026-06-08", "cleared")):
            handle(uow, event, app.state.portrait_rules)
        session.commit()

    for who in (header("employer", CODE), header("county", "141029"), header("city", "141000")):
        answer = client.get(f"/enterprises/{CODE}/portrait", headers=who)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["credit_code"], body["region_code"], body["version"], body["enterprise_name"]) == (CODE, "141029", 2, "乡宁县示例水泥有限公司")
        assert [d["name"] for d in body["dimensions"]][0] == "hazard_exposure" and body["rule_set"]["version"] == "2021.1"
        testing = dimension(body, "testing")
        assert {**testing, "shortcomings": as_written(testing["shortcomings"])} == {
            "name": "testing", "title": "检测评价", "level": "medium", "level_title": "中", "shortcomings": [
                {"code": "test_expired:矽尘", "text": "矽尘: 工作场所职业病危害因素检测已过期 (严重, 接触 24 人)",
                 "source": f"report {first.submission_id}", "since": "2026-05-20"}]}
        assert body["computed_at"].startswith("2026-06-08") and body["trace"]
    english = dimension(client.get(f"/enterprises/{CODE}/portrait", headers={**header("county", "141029"), "Accept-Language": "en"}).json(),
                        "testing")
    assert english["title"] != "检测评价" and english["title"].isascii() and english["level"] == "medium"

    versions = client.get(f"/enterprises/{CODE}/portrait/versions", headers=header("county", "141029")).json()
    assert [(v["version"], v["levels"]["testing"]) for v in versions["items"]] == [(2, "medium"), (1, "high")]
    assert versions["items"][0]["computed_at"].startswith("2026-06-08") and "解除" in versions["items"][0]["reason"]
    assert client.get(f"/enterprises/{CODE}/portrait/versions/1", headers=header("employer", CODE)).json()["version"] == 1

    # another county, another employer: 404, as for an employer without a portrait
    for who in (header("county", "141024"), header("employer", code(802))):
        assert client.get(f"/enterprises/{CODE}/portrait", headers=who).status_code == 404
        assert client.get(f"/enterprises/{CODE}/portrait/versions", headers=who).status_code == 404
    assert client.get(f"/enterprises/{code(802)}/portrait", headers=header("county", "141029")).status_code == 404
    assert client.get(f"/enterprises/{CODE}/portrait/versions/3", headers=header("county", "141029")).status_code == 404
    assert client.get(f"/enterprises/{CODE}/portrait").status_code == 401
    bad = client.get("/enterprises/not-a-code/portrait", headers=header("county", "141029"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "credit_code"
