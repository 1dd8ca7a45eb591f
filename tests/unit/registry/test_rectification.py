"""The rectification loop in the service layer, with in-memory repositories (tests/unit/registry/fakes.py):
items raised from penalty's screening, continued by a later report, corrected by the employer, returned
and accepted by staff (解除), reminded and listed as overdue by the daily sweep."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from services.registry.adapters.attachments import LocalAttachmentStore, inspect_upload
from services.registry.adapters.orm import EnterpriseRecord
from services.registry.adapters.rules import load_rectification_rules
from services.registry.domain import rectification as rules
from services.registry.service_layer import rectification
from shared.auth import Principal
from shared.contracts import RectificationProgressed, RuleSetRef, ScreeningRecorded, ScreeningResult, Shortcoming, TraceEntry
from shared.identifiers import credit_code_check_character
from tests.unit.registry.fakes import FakeUnitOfWork

RULEBOOK = load_rectification_rules()
SCREENED_ON = date(2025, 6, 9)  # a Monday; 10 working days later (no holiday between): 2025-06-23
DEFAULT_DEADLINE = date(2025, 6, 23)


def code(serial: int, region: str = "141029") -> str:
    body = f"91{region}MA{serial:07d}"
    return body + credit_code_check_character(body)


EMPLOYER = code(1)
STAFF = Principal("u-county", "乡宁县 张三", "county", region_code="141029")
OTHER_COUNTY = Principal("u-other", "洪洞县 李四", "county", region_code="141024")
OWNER = Principal("u-employer", "安全员 王五", "employer", credit_code=EMPLOYER)

PUBLISHED = Shortcoming(code="checklist:4.3", kind="checklist", subject="4.3", text="自查表 4.3 检测结果公布: 得分 0 / 3")
SILICA = Shortcoming(code="test_expired:矽尘", kind="test_expired", subject="矽尘", text="矽尘: 工作场所职业病危害因素检测已过期")


def result(shortcoming: Shortcoming, outcome: str = "eligible_if_corrected", deadline: date | None = None,
           item_code: str | None = "70-1") -> ScreeningResult:
    return ScreeningResult(
        screening_id=uuid4(), shortcoming=shortcoming, outcome=outcome, item_code=item_code,  # type: ignore[arg-type]
        provision_code=item_code or "72-4", duty="职业病防治法 §70(一)", deadline=deadline,
        trace=[TraceEntry(rule="附件5 CN 2021.1", detail=f"{shortcoming.code} → {outcome}")],
    )


def screening(*results: ScreeningResult, on: date = SCREENED_ON, submission: UUID | None = None, region: str = "141029",
              credit_code: str = EMPLOYER) -> ScreeningRecorded:
    return ScreeningRecorded(
        producer="penalty", credit_code=credit_code, submission_id=submission or uuid4(), region_code=region, screened_on=on,
        results=list(results), rule_set=RuleSetRef(jurisdiction="CN", version="2021.1", effective_from=date(2021, 7, 15), provisional=True),
    )


def archived(uow: FakeUnitOfWork, credit_code: str = EMPLOYER, region: str = "141029") -> None:
    uow.enterprises.add(EnterpriseRecord(credit_code=credit_code, name="乡宁县示例水泥有限公司", region_code=region, industry_codes=["C3021"],
                                         employees=86, category="乙", archive_version=1, latest_version=1))


def steps(uow: FakeUnitOfWork, item_id: str) -> list[str]:
    return [s.step for s in uow.rectifications.steps_of(item_id)]


def announced(uow: FakeUnitOfWork) -> list[RectificationProgressed]:
    return uow.events(RectificationProgressed)


def pdf_file(index: int = 0, name: str = "公告照片.pdf", content: bytes = b"%PDF-1.4\n% a correction\n%%EOF\n") -> rectification.StagedFile:
    stream = io.BytesIO(content)
    size, sha256, head, too_big = inspect_upload(stream, 1024 * 1024)
    return rectification.StagedFile(rules.Upload(index, name, "application/pdf", size, head, too_big), sha256, stream)


def submit(uow: FakeUnitOfWork, store: LocalAttachmentStore, item_id: str, on: date, *files: rectification.StagedFile,
           text: str = "已在公告栏公布检测结果") -> None:
    rectification.submit_correction(uow, store, OWNER, item_id, text, list(files), RULEBOOK, max_bytes=1024 * 1024, max_files=5, today=on)


# --------------------------------------------------------------------------- raised, continued


def test_a_screening_raises_one_item_per_shortcoming_with_its_deadline_and_a_replay_raises_nothing_more() -> None:
    uow = FakeUnitOfWork()
    archived(uow, region="141029")
    given = date(2025, 6, 20)
    event = screening(result(PUBLISHED, deadline=given), result(SILICA, "not_eligible", item_code=None), region="141024")

    touched = rectification.raise_from_screening(uow, event, RULEBOOK)

    published_id = rules.item_id(EMPLOYER, "checklist:4.3", str(event.submission_id))
    silica_id = rules.item_id(EMPLOYER, "test_expired:矽尘", str(event.submission_id))
    assert touched == [published_id, silica_id]
    published, silica = uow.rectifications.get(published_id), uow.rectifications.get(silica_id)
    assert (published.status, published.deadline, published.outcome, published.item_code) == ("open", given, "eligible_if_corrected", "70-1")
    assert (silica.deadline, silica.outcome, silica.item_code) == (DEFAULT_DEADLINE, "not_eligible", None)
    assert silica.deadline_basis == "筛查未确定期限：按整改规则 CN 2021.1（暂定），自 2025年6月9日 筛查之日起 10 个工作日，即 2025年6月23日 前"
    assert published.deadline_basis == "筛查确定的期限（责令限期改正）：2025年6月20日"
    assert published.region_code == silica.region_code == "141029", "the archive's region, not the event's"
    assert published.screening["trace"][0]["detail"] == "checklist:4.3 → eligible_if_corrected"
    raised = announced(uow)
    assert [(e.step, e.status, e.on, e.shortcoming_code) for e in raised] == [
        ("raised", "open", SCREENED_ON, "checklist:4.3"), ("raised", "open", SCREENED_ON, "test_expired:矽尘")]
    assert (raised[0].outcome, raised[0].item_code, raised[0].shortcoming_kind, raised[0].actor) == ("eligible_if_corrected", "70-1", "checklist", "system")
    assert raised[0].event_id == UUID(rules.step_event_id(published_id, "raised")), "a replay announces the same step with the same id"
    assert raised[1].detail.endswith("（筛查结论：不适用首违不罚，72-4）：应于 2025年6月23日 前整改，筛查未确定期限：按整改规则 CN 2021.1（暂定），"
                                     "自 2025年6月9日 筛查之日起 10 个工作日，即 2025年6月23日 前")
    assert raised[1].text("en").endswith("(screened: 不适用首违不罚 (not eligible for no penalty), 72-4): correct by 2025-06-23, the screening set none: "
                                         "10 working days from the screening of 2025-06-09 (rectification rules CN 2021.1 (provisional)), by 2025-06-23")

    # the same screening again (re-published with a new event id): nothing new
    rectification.raise_from_screening(uow, event.model_copy(update={"event_id": uuid4()}), RULEBOOK)
    assert len(uow.rectifications.items) == 2 and len(announced(uow)) == 2

    # an employer the registry does not know yet: the event's region
    stranger = screening(result(PUBLISHED), credit_code=code(2, "141024"), region="141024")
    (stranger_id,) = rectification.raise_from_screening(uow, stranger, RULEBOOK)
    assert uow.rectifications.get(stranger_id).region_code == "141024"


def test_a_later_report_continues_an_item_not_cleared_and_one_cleared_is_raised_anew(tmp_path: Path) -> None:
    uow, store = FakeUnitOfWork(), LocalAttachmentStore(tmp_path)
    archived(uow)
    first = screening(result(PUBLISHED))
    (item_id,) = rectification.raise_from_screening(uow, first, RULEBOOK)
    item = uow.rectifications.get(item_id)
    deadline = item.deadline

    later = screening(result(PUBLISHED, "not_eligible", deadline=date(2025, 9, 30)), result(SILICA, "not_eligible", item_code=None),
                      on=date(2025, 7, 1))
    touched = rectification.raise_from_screening(uow, later, RULEBOOK)

    assert touched[0] == item_id and len(uow.rectifications.items) == 2, "4.3 goes on; 矽尘 is new"
    assert steps(uow, item_id) == ["raised", "continued"]
    assert (item.deadline, item.status) == (deadline, "open"), "the deadline does not move"
    assert (item.screening_id, item.latest_submission_id, item.outcome) == (str(later.results[0].screening_id), str(later.submission_id), "not_eligible")
    continued = announced(uow)[-2]
    assert (continued.step, continued.screening_id, continued.submission_id) == ("continued", later.results[0].screening_id, first.submission_id)
    rectification.raise_from_screening(uow, later.model_copy(update={"event_id": uuid4()}), RULEBOOK)
    assert steps(uow, item_id) == ["raised", "continued"], "the same report continues it once"

    submit(uow, store, item_id, date(2025, 7, 2))
    rectification.review_correction(uow, STAFF, item_id, "accept", None, date(2025, 7, 3))
    third = screening(result(PUBLISHED), on=date(2026, 6, 1))
    (again,) = [i for i in rectification.raise_from_screening(uow, third, RULEBOOK) if i != item_id]
    assert again != item_id and uow.rectifications.get(again).status == "open", "cleared: the same shortcoming later is a new item"


# --------------------------------------------------------------------------- correct, review, clear


def test_submit_return_submit_accept_clears_the_item_corrected_in_time(tmp_path: Path) -> None:
    uow, store = FakeUnitOfWork(), LocalAttachmentStore(tmp_path)
    archived(uow)
    (item_id,) = rectification.raise_from_screening(uow, screening(result(PUBLISHED)), RULEBOOK)
    item = uow.rectifications.get(item_id)

    with pytest.raises(rectification.ItemNotFound):  # another employer's token
        rectification.submit_correction(uow, store, Principal("u-x", "x", "employer", credit_code=code(9)), item_id, "x", [], RULEBOOK,
                                        max_bytes=1024, max_files=5, today=date(2025, 6, 10))
    with pytest.raises(rules.StepRefused, match="only an item with a correction awaiting review") as refused:
        rectification.review_correction(uow, STAFF, item_id, "accept", None, date(2025, 6, 10))
    assert refused.value.text() in ("只有整改材料待审核的整改事项才能审核；该事项当前状态为待整改", refused.value.text("zh_CN"))

    submit(uow, store, item_id, date(2025, 6, 12), pdf_file())
    assert item.status == "submitted" and uow.committed
    with pytest.raises(rules.StepRefused, match="already awaits review"):
        submit(uow, store, item_id, date(2025, 6, 12))
    with pytest.raises(rectification.ItemNotFound):
        rectification.review_correction(uow, OTHER_COUNTY, item_id, "accept", None, date(2025, 6, 13))
    with pytest.raises(rectification.ReviewProblem, match="reason"):
        rectification.review_correction(uow, STAFF, item_id, "return", "  ", date(2025, 6, 13))

    rectification.review_correction(uow, STAFF, item_id, "return", "照片不清晰, 请补充公示记录", date(2025, 6, 13))
    assert item.status == "returned"
    submit(uow, store, item_id, date(2025, 6, 20), pdf_file(content=b"%PDF-1.4\n% clearer\n%%EOF\n"))
    rectification.review_correction(uow, STAFF, item_id, "accept", None, date(2025, 6, 27))  # reviewed after the deadline…

    assert item.status == "cleared"
    assert steps(uow, item_id) == ["raised", "submitted", "returned", "submitted", "cleared"]
    cleared = announced(uow)[-1]
    assert (cleared.step, cleared.status, cleared.on) == ("cleared", "cleared", date(2025, 6, 27))
    assert (cleared.corrected_on, cleared.corrected_in_time) == (date(2025, 6, 20), True), "…but corrected on the 20th, by the 23rd"
    returned = announced(uow)[2]
    assert (returned.step, returned.detail) == ("returned", "第 1 次整改材料被退回：照片不清晰, 请补充公示记录")
    assert returned.text("en") == "correction 1 returned: 照片不清晰, 请补充公示记录", "the reviewer's words stay as written"
    first, second = uow.rectifications.submissions_of(item_id)
    assert (first.decision, first.review_reason, second.decision) == ("returned", "照片不清晰, 请补充公示记录", "accepted")
    submitted = announced(uow)[1]
    assert submitted.correction_text == "已在公告栏公布检测结果" and [a.key for a in submitted.attachments] == [
        f"{item_id}/{a.sha256}" for a in uow.rectifications.attachments_of(item_id) if a.submission_n == 1]
    assert [a.n for a in uow.rectifications.attachments_of(item_id)] == [1, 2]
    assert sorted(p.name for p in (tmp_path / item_id).iterdir()) == sorted(a.sha256 for a in uow.rectifications.attachments_of(item_id))
    with pytest.raises(rules.StepRefused, match="cleared"):
        submit(uow, store, item_id, date(2025, 6, 28))


def test_a_late_correction_accepted_is_not_in_time() -> None:
    uow = FakeUnitOfWork()
    (item_id,) = rectification.raise_from_screening(uow, screening(result(PUBLISHED)), RULEBOOK)
    rectification.submit_correction(uow, LocalAttachmentStore(Path("/nonexistent")), OWNER, item_id, "已整改", [], RULEBOOK,
                                    max_bytes=1, max_files=1, today=date(2025, 6, 24))
    rectification.review_correction(uow, STAFF, item_id, "accept", "现场核实", date(2025, 6, 25))
    cleared = announced(uow)[-1]
    assert (cleared.corrected_on, cleared.corrected_in_time) == (date(2025, 6, 24), False)
    assert cleared.detail == "2025年6月24日 提交的第 1 次整改材料审核通过，在整改期限后提交（期限 2025年6月23日）：解除。审核意见：现场核实"
    assert "after the deadline (2025-06-23): 解除 (cleared): 现场核实" in cleared.text("en")


def test_bad_attachments_are_refused_together_and_a_failed_commit_keeps_no_file(tmp_path: Path) -> None:
    uow, store = FakeUnitOfWork(), LocalAttachmentStore(tmp_path)
    (item_id,) = rectification.raise_from_screening(uow, screening(result(PUBLISHED)), RULEBOOK)
    fake_pdf = pdf_file(1, "检测报告.pdf", b"GIF89a\x01\x00")
    png_named_pdf = pdf_file(2, "照片.png", b"\x89PNG\r\n\x1a\n....")
    with pytest.raises(rectification.AttachmentsRefused) as refused:
        submit(uow, store, item_id, date(2025, 6, 10), pdf_file(), fake_pdf, png_named_pdf)
    assert [field for field, _ in refused.value.problems] == ["files[1]", "files[2]", "files[2]"]
    assert refused.value.problems[0][1] == "'检测报告.pdf': declared application/pdf but the content is not a PDF (a PDF starts with b'%PDF-')"
    assert "declared application/pdf but the content is not a PDF (it is a PNG)" in refused.value.problems[1][1]
    assert "a PDF file's name ends in .pdf" in refused.value.problems[2][1]
    assert list(tmp_path.iterdir()) == [] and steps(uow, item_id) == ["raised"] and uow.rectifications.get(item_id).status == "open"

    def broken_commit() -> None:
        raise RuntimeError("the database went away")

    uow.commit = broken_commit  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="went away"):
        submit(uow, store, item_id, date(2025, 6, 10), pdf_file())
    assert not any(p.is_file() for p in tmp_path.rglob("*")), "the file stored before the failed commit is deleted"


def test_the_attachment_rules() -> None:
    def upload(name: str, kind: str, head: bytes, size: int = 100, too_big: bool = False, index: int = 0) -> rules.Upload:
        return rules.Upload(index, name, kind, size, head, too_big)

    allowed = ("application/pdf", "image/png", "image/jpeg")
    assert rules.attachment_problems([upload("a.pdf", "application/pdf", b"%PDF-1.7"), upload("b.JPG", "image/jpeg", b"\xff\xd8\xff\xe0", index=1),
                                      upload("c.png", "image/png", b"\x89PNG\r\n\x1a\n", index=2)], allowed, 1000, 3) == []
    problems = dict(rules.attachment_problems([
        upload("a.exe", "application/octet-stream", b"MZ"),
        upload("big.pdf", "application/pdf", b"%PDF-", 1001, True, 1),
        upload("empty.png", "image/png", b"", 0, index=2),
        upload("../etc.pdf", "application/pdf", b"%PDF-", index=3),
        upload("x" * 201 + ".pdf", "application/pdf", b"%PDF-", index=4),
        upload("photo.jpg", "image/jpeg", b"\x89PNG\r\n\x1a\n", index=5),
    ], allowed, 1000, 5))
    assert problems["files"] == "6 files: at most 5 may be attached to one correction"
    assert "type application/octet-stream is not allowed: PDF, PNG, JPEG only" in problems["files[0]"]
    assert "larger than 1000 bytes" in problems["files[1]"]
    assert "the file is empty" in problems["files[2]"]
    assert "may not contain /" in problems["files[3]"]
    assert "at most 200" in problems["files[4]"]
    assert "declared image/jpeg but the content is not a JPEG (it is a PNG)" in problems["files[5]"]
    assert rules.filename_problem("照片\u202egpj.pdf") == "'照片\\u202egpj.pdf': the file name contains control or invisible format characters"
    assert rules.filename_problem("照片\u202egpj.pdf").text() == "'照片\\u202egpj.pdf'：文件名含有控制字符或不可见的格式字符"  # type: ignore[union-attr]
    assert problems["files[5]"].text() == "'photo.jpg'：声明为 image/jpeg，但内容不是 JPEG（而是 PNG）"


# --------------------------------------------------------------------------- the daily sweep


def test_the_sweep_reminds_once_then_lists_as_overdue_and_a_submitted_item_is_not_overdue(tmp_path: Path) -> None:
    uow, store = FakeUnitOfWork(), LocalAttachmentStore(tmp_path)
    archived(uow)
    (late,) = rectification.raise_from_screening(uow, screening(result(PUBLISHED)), RULEBOOK)
    (pending,) = rectification.raise_from_screening(uow, screening(result(SILICA, "not_eligible", item_code=None)), RULEBOOK)
    submit(uow, store, pending, date(2025, 6, 16))
    assert uow.rectifications.get(late).deadline == DEFAULT_DEADLINE  # Monday 2025-06-23

    assert rectification.run_sweep(uow, date(2025, 6, 17), RULEBOOK) == [], "4 working days before: not yet"
    done = rectification.run_sweep(uow, date(2025, 6, 18), RULEBOOK)  # Wed: Thu, Fri, Mon are 3 working days
    assert len(done) == 2 and all("已提醒一次" in line for line in done)
    reminded = announced(uow)[-2:]
    assert {e.item_id for e in reminded} == {UUID(late), UUID(pending)}
    assert all(e.step == "reminded" for e in reminded) and "还有 3 个工作日" in reminded[0].detail and "in 3 working days" in reminded[0].text("en")
    assert "尚未解除（整改材料待审核）" in next(e.detail for e in reminded if e.item_id == UUID(pending))
    assert rectification.run_sweep(uow, date(2025, 6, 18), RULEBOOK) == [] and rectification.run_sweep(uow, date(2025, 6, 23), RULEBOOK) == [], \
        "once per item and deadline"

    done = rectification.run_sweep(uow, date(2025, 6, 24), RULEBOOK)
    assert len(done) == 1 and "列入执法" in done[0]
    assert uow.rectifications.get(late).status == "overdue" and uow.rectifications.get(pending).status == "submitted", "the review decides"
    overdue = announced(uow)[-1]
    assert (overdue.step, overdue.status, overdue.actor, overdue.on) == ("overdue", "overdue", "system", date(2025, 6, 24))
    assert overdue.detail == "整改期限 2025年6月23日 已过 1 日，仍无审核通过的整改材料：列入执法（县级可依据处罚筛查结果立案）"
    assert "passed 1 day ago without an accepted correction: listed for enforcement" in overdue.text("en")
    count = len(announced(uow))
    assert rectification.run_sweep(uow, date(2025, 6, 24), RULEBOOK) == [] and rectification.run_sweep(uow, date(2025, 6, 30), RULEBOOK) == []
    assert len(announced(uow)) == count, "idempotent"

    # the pending correction is returned after the deadline: the next sweep lists it; a late correction is still taken
    rectification.review_correction(uow, STAFF, pending, "return", "未附检测报告", date(2025, 7, 1))
    assert rectification.run_sweep(uow, date(2025, 7, 2), RULEBOOK)[0].endswith("列入执法（县级可依据处罚筛查结果立案）")
    assert steps(uow, pending) == ["raised", "submitted", "reminded", "returned", "overdue"]
    submit(uow, store, late, date(2025, 7, 2))
    assert uow.rectifications.get(late).status == "submitted"


def test_a_replay_of_the_screenings_into_an_empty_registry_rebuilds_the_same_items() -> None:
    events = [screening(result(PUBLISHED), result(SILICA, "not_eligible", item_code=None)),
              screening(result(PUBLISHED, "not_eligible"), on=date(2025, 7, 1))]

    def rebuilt() -> tuple[list[tuple], list[tuple]]:
        uow = FakeUnitOfWork()
        archived(uow)
        for event in events:
            rectification.raise_from_screening(uow, event.model_copy(update={"event_id": uuid4()}), RULEBOOK)  # new envelope each time
        items = sorted((i.id, i.status, i.deadline, i.screening_id, i.latest_submission_id) for i in uow.rectifications.items.values())
        return items, [(e.event_id, e.item_id, e.step, e.on) for e in announced(uow)]

    first, again = rebuilt(), rebuilt()
    assert first == again and len(first[0]) == 2 and [s for *_, s, _ in first[1]] == ["raised", "raised", "continued"]


def test_a_registry_rebuilt_from_both_topics_holds_the_same_items_whichever_consumer_runs_first(tmp_path: Path) -> None:
    """The items' own log (ohs.registry.rectification-progressed) carries what penalty's screenings do
    not: the employer's corrections, staff's reviews, the sweep's steps. An empty registry consuming both
    topics — the two consumers run independently, so in any interleaving — ends with the same items."""
    original, store = FakeUnitOfWork(), LocalAttachmentStore(tmp_path)
    archived(original)
    first = screening(result(PUBLISHED), result(SILICA, "not_eligible", item_code=None))
    (item_id, silica_id) = rectification.raise_from_screening(original, first, RULEBOOK)
    submit(original, store, item_id, date(2025, 6, 12), pdf_file())
    rectification.review_correction(original, STAFF, item_id, "return", "照片不清晰", date(2025, 6, 13))
    later = screening(result(PUBLISHED, "not_eligible"), on=date(2025, 6, 16))
    rectification.raise_from_screening(original, later, RULEBOOK)
    submit(original, store, item_id, date(2025, 6, 17), pdf_file())
    rectification.review_correction(original, STAFF, item_id, "accept", None, date(2025, 6, 18))
    rectification.run_sweep(original, date(2025, 6, 24), RULEBOOK)  # 矽尘: past its deadline
    log = announced(original)

    def state(uow: FakeUnitOfWork) -> list[tuple]:
        return sorted(
            (i.id, i.status, i.deadline, i.deadline_basis, i.latest_submission_id, i.screening_id, i.outcome, i.item_code, i.provision_code,
             repr(sorted(i.screening.items())), i.reminded_for,
             tuple(sorted((s.step, s.status, s.taken_on, s.event_id, s.actor, s.detail, s.corrected_on) for s in uow.rectifications.steps_of(i.id))),
             tuple((p.n, p.text, p.actor, p.decision, p.reviewed_on, p.reviewed_by, p.review_reason) for p in uow.rectifications.submissions_of(i.id)),
             tuple((a.n, a.sha256, a.storage_key) for a in uow.rectifications.attachments_of(i.id)))
            for i in uow.rectifications.items.values()
        )

    screenings = [first, later]
    for interleaving in (screenings + log, log + screenings, [first, *log[:4], later, *log[4:]], log[:2] + [later, first] + log[2:]):
        rebuilt = FakeUnitOfWork()
        archived(rebuilt)
        for event in interleaving:
            if isinstance(event, ScreeningRecorded):
                rectification.raise_from_screening(rebuilt, event, RULEBOOK)
            else:
                rectification.restore_step(rebuilt, event)
        assert state(rebuilt) == state(original), [type(e).__name__ for e in interleaving]
        assert rebuilt.rectifications.get(item_id).status == "cleared" and rebuilt.rectifications.get(silica_id).status == "overdue"
    for event in log:  # the registry that took the steps consumes its own log: nothing changes
        rectification.restore_step(original, event)
    assert len(original.rectifications.steps) == len(log)


def test_an_agency_overrides_the_rule_data_for_its_province(tmp_path: Path) -> None:
    import json

    from services.registry.adapters.rules import PACKAGED_INDUSTRY_DIR
    from shared.rule_data import RuleDataError

    folder = tmp_path / "rectification"
    folder.mkdir()
    packaged = json.loads((PACKAGED_INDUSTRY_DIR / "rectification-2021.json").read_text(encoding="utf-8"))
    local = {**packaged, "jurisdiction": "140000", "version": "2025.1", "effective_from": "2025-01-01", "provisional": False,
             "default_working_days": 5, "remind_working_days": 1, "attachment_types": ["application/pdf"]}
    (folder / "shanxi.json").write_text(json.dumps(local, ensure_ascii=False), encoding="utf-8")
    rulebook = load_rectification_rules(tmp_path)
    assert rulebook.rules.in_force("141029", SCREENED_ON).version == "2025.1" and rulebook.rules.in_force("110101", SCREENED_ON).version == "2021.1"

    uow = FakeUnitOfWork()
    (item_id,) = rectification.raise_from_screening(uow, screening(result(SILICA, "not_eligible", item_code=None)), rulebook)
    assert uow.rectifications.get(item_id).deadline == date(2025, 6, 16), "5 working days in 山西"
    assert "整改规则 140000 2025.1，" in uow.rectifications.get(item_id).deadline_basis
    with pytest.raises(rectification.AttachmentsRefused, match="type image/png is not allowed: PDF only"):
        png = rectification.StagedFile(rules.Upload(0, "a.png", "image/png", 8, b"\x89PNG\r\n\x1a\n", False), "0" * 64, io.BytesIO())
        rectification.submit_correction(uow, LocalAttachmentStore(tmp_path / "a"), OWNER, item_id, "x", [png], rulebook, max_bytes=100,
                                        max_files=5, today=SCREENED_ON)

    (folder / "shanxi.json").write_text(json.dumps({**local, "attachment_types": ["application/zip"]}), encoding="utf-8")
    with pytest.raises(RuleDataError, match="shanxi.json"):
        load_rectification_rules(tmp_path)
