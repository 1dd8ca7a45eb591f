"""Chinese first (issue 14): what the registry writes for people — a version's reason, a history note, a
transfer's reason, an exemption, a rectification step, a deadline's basis, a portrait's reason, trace and
dimensions — is a message code and its parameters, written in Chinese when it happens and readable in
English on request.

The story: the example report's employer in 乡宁县 is archived, reports again naming 洪洞县 and is moved
there when 洪洞县 accepts; 洪洞县 grants it a 免检 and revokes it; penalty's screening of the report raises
its rectification items; the employer submits a correction, staff return it (the correction is refused),
and a second correction while one awaits review is refused too. What a county supervisor reads along the
way is Chinese; an English-speaking auditor reads the same events in English. "Chinese" and "English" are
meant as in ``tests/unit/assessment/test_chinese_first.py``:

* a Chinese text has Chinese characters and no English sentence (two English words in a row), once the
  ids it names (report and item UUIDs) are taken out;
* an English text has no Chinese character once the domain terms written beside their translation
  (``丙 (category C, highest risk)``), the names the report and the staff gave (the enterprise, its factors,
  a reviewer's reason: quoted as written) are taken out.

Texts the registry stores in a row (the change log, a transfer's reason, a rectification step) are kept in
Chinese only; the announcements carry the code and parameters beside them. A recorded event of today's
format (``tests/unit/shared/data/events``), written before codes existed, still parses and renders as written.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from services.registry.adapters.attachments import LocalAttachmentStore, inspect_upload
from services.registry.adapters.rules import load_portrait_rules, load_rectification_rules
from services.registry.domain import portrait as portrait_rules
from services.registry.domain import rectification as rules
from services.registry.domain.figures import definitions
from services.registry.service_layer import exemptions, portrait, rectification, transfers
from services.registry.service_layer.handlers import archive_classification
from shared.auth import Principal
from shared.contracts import (
    AssessmentClassified,
    ClassificationChanged,
    ExemptionChanged,
    PortraitChanged,
    RectificationProgressed,
    RuleSetRef,
    ScreeningRecorded,
    ScreeningResult,
    TraceEntry,
)
from tests.unit.assessment.test_chinese_first import chinese_left_in, decided, english_sentences, in_both_catalogues, report_names
from tests.unit.registry.fakes import FakeUnitOfWork

RECORDED = Path(__file__).resolve().parents[1] / "shared" / "data" / "events"
PORTRAIT_RULES = load_portrait_rules()
RECTIFICATION_RULES = load_rectification_rules()
TREE = transfers.packaged_regions()
XIANGNING, HONGTONG = "141029", "141024"
HONGTONG_STAFF = Principal("u-2", "洪洞县 李四", "county", HONGTONG)
TODAY = date(2026, 3, 2)  # a Monday
HAN = re.compile(r"[\u3400-\u9fff]")
IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# what staff and the employer wrote: quoted as written in every language
GIVEN = ["核实：已迁入洪洞县", "信用评价 A 级", "洪卫信〔2026〕3号", "发现瞒报接触人数", "已更换除尘设备并复测", "未附复测报告，请补充"]


# --------------------------------------------------------------------------- the story


class Story:
    """Everything the registry wrote along the way."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()
        self.first: AssessmentClassified
        self.refusals: list[rules.StepRefused] = []


def _portrait(uow: FakeUnitOfWork, events: list[Any]) -> None:
    for event in events:
        if isinstance(event, AssessmentClassified):
            portrait.classified(uow, event, PORTRAIT_RULES)
        elif isinstance(event, RectificationProgressed):
            portrait.rectification_progressed(uow, event, PORTRAIT_RULES)


def _screening(event: AssessmentClassified) -> ScreeningRecorded:
    outcomes = {"exposure_over_limit": ("not_eligible", None, "72-4"), "first_assessment_late": ("no_violation", None, None)}
    results = []
    for shortcoming in event.shortcomings:
        outcome, item_code, provision = outcomes.get(shortcoming.kind, ("eligible_if_corrected", "70-1", "70-1"))
        results.append(ScreeningResult(
            screening_id=uuid4(), shortcoming=shortcoming, outcome=outcome, item_code=item_code, provision_code=provision,  # type: ignore[arg-type]
            duty="职业病防治法", deadline=None, trace=[TraceEntry(rule="附件5 CN 2021.1", detail=f"{shortcoming.code} → {outcome}")],
        ))
    return ScreeningRecorded(
        producer="penalty", credit_code=event.credit_code, submission_id=event.submission_id, region_code=event.region_code, screened_on=TODAY,
        results=results, rule_set=RuleSetRef(jurisdiction="CN", version="2021.1", effective_from=date(2021, 7, 15), provisional=True),
    )


def _pdf() -> rectification.StagedFile:
    stream = io.BytesIO(b"%PDF-1.4\n% a correction\n%%EOF\n")
    size, sha256, head, too_big = inspect_upload(stream, 1024 * 1024)
    return rectification.StagedFile(rules.Upload(0, "复测报告.pdf", "application/pdf", size, head, too_big), sha256, stream)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    told = Story()
    uow = told.uow
    # 1. the example report is classified and archived in 乡宁县
    told.first = decided()  # type: ignore[assignment]
    assert isinstance(told.first, AssessmentClassified) and told.first.region_code == XIANGNING
    archive_classification(uow, told.first, TREE)
    _portrait(uow, [told.first])
    # 2. a later report names 洪洞县: a transfer 洪洞县 accepts
    later = told.first.model_copy(update={"event_id": uuid4(), "submission_id": uuid4(), "region_code": HONGTONG, "assessed_on": date(2024, 6, 1)})
    archive_classification(uow, later, TREE)
    transfers.decide_by_staff(uow, HONGTONG_STAFF, told.first.credit_code, "accept", GIVEN[0], TREE)
    # 3. 洪洞县 grants a 免检, in force at once, and revokes it
    exempt = exemptions.grant(uow, told.first.credit_code, valid_from=TODAY, valid_until=date(2026, 8, 29), reason=GIVEN[1], basis=GIVEN[2],
                              actor=HONGTONG_STAFF.describe(), today=TODAY)
    exemptions.revoke(uow, told.first.credit_code, exempt.id, reason=GIVEN[3], actor=HONGTONG_STAFF.describe())
    # 4. penalty's screening raises the report's rectification items; the employer corrects one, staff return it
    raised = rectification.raise_from_screening(uow, _screening(told.first), RECTIFICATION_RULES)
    item_id = next(i for i in raised if uow.rectifications.get(i).shortcoming_code.startswith("exposure_over_limit"))
    owner = Principal("u-employer", "安全员 王五", "employer", credit_code=told.first.credit_code)
    store = LocalAttachmentStore(tmp_path_factory.mktemp("attachments"))
    rectification.submit_correction(uow, store, owner, item_id, GIVEN[4], [_pdf()], RECTIFICATION_RULES, max_bytes=1024 * 1024,
                                    max_files=5, today=date(2026, 3, 5))
    with pytest.raises(rules.StepRefused) as again:  # a second correction while one awaits review
        rectification.submit_correction(uow, store, owner, item_id, "再次提交", [], RECTIFICATION_RULES, max_bytes=1, max_files=1,
                                        today=date(2026, 3, 5))
    told.refusals.append(again.value)
    rectification.review_correction(uow, HONGTONG_STAFF, item_id, "return", GIVEN[5], date(2026, 3, 6))
    with pytest.raises(rules.StepRefused) as not_pending:  # nothing awaits review any more
        rules.after_review(uow.rectifications.get(item_id).status, "accept")
    told.refusals.append(not_pending.value)
    _portrait(uow, uow.events(RectificationProgressed))
    yield told


def names(story: Story) -> list[str]:
    """The names the report gave and what people wrote: quoted as written in every language."""
    titles = [str(s.params.get("title")) for s in story.first.shortcomings if s.params.get("title")]
    return [*report_names(), *titles, *GIVEN, "洪洞县 李四"]


def chinese_problems(text: str) -> list[str]:
    """Why ``text`` is no Chinese text: no Chinese character, or an English sentence in it (ids taken out)."""
    plain = IDS.sub("", text)
    return ([] if HAN.search(plain) else ["no Chinese"]) + english_sentences(plain)


def codes_of(value: Any) -> Iterator[str]:
    """Every message code in an event's code and parameters (nested messages included)."""
    if isinstance(value, dict):
        if isinstance(value.get("code"), str) and isinstance(value.get("params", {}), dict):
            yield value["code"]
        for inner in value.values():
            yield from codes_of(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from codes_of(inner)


def announced(story: Story) -> list[ClassificationChanged | ExemptionChanged | RectificationProgressed | PortraitChanged]:
    kinds = (ClassificationChanged, ExemptionChanged, RectificationProgressed, PortraitChanged)
    return [event for kind in kinds for event in story.uow.events(kind)]  # type: ignore[misc]


def written(event: Any) -> str:
    return event.detail if isinstance(event, RectificationProgressed) else event.reason


# --------------------------------------------------------------------------- what was announced


def test_the_story_announced_every_kind_of_text(story: Story) -> None:
    kinds = {type(event).__name__ for event in announced(story)}
    assert kinds == {"ClassificationChanged", "ExemptionChanged", "RectificationProgressed", "PortraitChanged"}
    steps = [e.step for e in story.uow.events(RectificationProgressed)]
    assert steps.count("raised") == 2 and "submitted" in steps and "returned" in steps
    moved = story.uow.events(ClassificationChanged)[-1]
    assert moved.changed == ["region_code"] and moved.region_code == HONGTONG


def test_every_announced_text_is_chinese_with_its_code_in_both_catalogues(story: Story) -> None:
    for event in announced(story):
        assert event.code is not None and event.code.startswith("registry."), event
        assert written(event) == event.text() == event.text("zh_CN"), "the text written is the Chinese rendering of the code"
        assert chinese_problems(written(event)) == [], (event.code, written(event))
        missing = [code for code in codes_of({"code": event.code, "params": event.params}) if not in_both_catalogues(code)]
        assert missing == [], (event.code, missing)


def test_every_announced_text_reads_in_english_with_chinese_only_beside_its_translation(story: Story) -> None:
    for event in announced(story):
        english = event.text("en")
        assert english != written(event) and re.search(r"[A-Za-z]{3,}", english), (event.code, english)
        assert chinese_left_in(english, names(story)) == [], (event.code, english)


def test_the_steps_say_what_happened(story: Story) -> None:
    first, moved = story.uow.events(ClassificationChanged)[0], story.uow.events(ClassificationChanged)[-1]
    assert first.reason == f"首次建档：评估报告 {story.first.submission_id}"
    assert moved.reason.endswith("迁至 141024；综合风险类别仍为 丙")
    assert moved.text("en").endswith("to 141024; category stays 丙 (category C, highest risk)")
    granted, revoked = story.uow.events(ExemptionChanged)
    assert granted.reason == "准予免检，2026年3月2日 至 2026年8月29日 期间免予检查：信用评价 A 级"
    assert revoked.text("en") == "exemption revoked: 发现瞒报接触人数"
    returned = next(e for e in story.uow.events(RectificationProgressed) if e.step == "returned")
    assert returned.detail == "第 1 次整改材料被退回：未附复测报告，请补充"
    assert returned.text("en") == "correction 1 returned: 未附复测报告，请补充"
    raised = next(e for e in story.uow.events(RectificationProgressed) if e.step == "raised" and e.shortcoming_code.startswith("exposure"))
    assert "矽尘 (silica dust)" in raised.text("en") and "Annex 5" not in raised.text("en")  # not_eligible: no 附件5 item, its provision


# --------------------------------------------------------------------------- what was kept


def test_every_history_note_and_stored_reason_is_chinese(story: Story) -> None:
    uow = story.uow
    stored: list[str] = []
    for region in (XIANGNING, HONGTONG):
        for entry in uow.change_log.of(region):
            stored.append(entry.reason)
            stored.extend(entry.payload.get("cleared", []))
    stored += [row.reason for row in uow.transfers.rows if row.reason and row.reason not in GIVEN]
    items = [uow.rectifications.get(i) for i in sorted({str(s.item_id) for s in uow.events(RectificationProgressed)})]
    stored += [str(item.deadline_basis) for item in items]
    stored += [step.detail for item in items for step in uow.rectifications.steps_of(item.id)]
    versions = uow.portraits.versions(story.first.credit_code)
    stored += [version.reason for version in versions]
    stored += [TraceEntry.model_validate(line).detail for version in versions for line in version.trace]
    assert len(stored) > 20
    problems = {text: chinese_problems(text) for text in stored if chinese_problems(text)}
    assert problems == {}


def test_the_portrait_reads_in_english_on_request(story: Story) -> None:
    version = story.uow.portraits.versions(story.first.credit_code)[-1]
    for line in portrait_rules.trace_in(version.trace, "en"):
        assert chinese_left_in(line, names(story)) == [], line
    for line in version.trace:
        entry = TraceEntry.model_validate(line)
        assert in_both_catalogues(entry.code), entry
    for dimension in version.dimensions:
        english = portrait_rules.dimension_in(dimension, "en")
        assert not HAN.search(english["title"]) and english["level_title"].endswith(")")
        for shortcoming in english["shortcomings"]:
            assert chinese_left_in(shortcoming["text"], names(story)) == [], shortcoming
            assert not HAN.search(shortcoming["source"])
        assert portrait_rules.dimension_in(dimension, "zh_CN") == dimension, "Chinese: as kept"


def test_a_refused_correction_says_why_in_both_languages(story: Story) -> None:
    awaits, not_pending = story.refusals
    assert awaits.code == "errors.rectification.awaits_review" and in_both_catalogues(awaits.code), "the use case says it for the HTTP answer"
    assert not_pending.code == "registry.rectification.refused.not_submitted" and in_both_catalogues(not_pending.code)
    assert not_pending.text() == "只有整改材料待审核的整改事项才能审核；该事项当前状态为已退回"
    assert not_pending.text("en") == "only an item with a correction awaiting review can be reviewed; this one is 已退回 (returned)"
    assert str(not_pending) == not_pending.text("en"), "str(): the English text of logs"


def test_the_figures_are_defined_in_chinese_and_in_english_on_request() -> None:
    chinese, english = definitions(), definitions("en")
    assert set(chinese) == set(english) and len(chinese) == 14
    assert all(HAN.search(text) and not english_sentences(text) for text in chinese.values())
    assert all(not HAN.search(text) for text in english.values())


# --------------------------------------------------------------------------- recorded events


@pytest.mark.parametrize(("name", "model"), [
    ("ohs.registry.rectification-progressed.json", RectificationProgressed),
    ("ohs.registry.portrait-changed.json", PortraitChanged),
    ("ohs.registry.classification-changed.json", ClassificationChanged),
    ("ohs.registry.exemption-changed.json", ExemptionChanged),
])
def test_a_recorded_event_of_todays_format_still_parses_and_renders_as_written(name: str, model: type[Any]) -> None:
    event = model.model_validate_json((RECORDED / name).read_text(encoding="utf-8"))
    assert event.code is None and event.params == {}
    assert event.text() == event.text("en") == written(event)
    coded = event.model_copy(update={"code": "registry.no_such_code"})
    assert coded.text("en") == written(event), "an unknown code renders as written"
