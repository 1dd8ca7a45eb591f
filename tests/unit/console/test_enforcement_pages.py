"""The enforcement pages of the console on fake service answers: a violation walked through the 三步法 to
closure, an employer's correction with an attachment returned and then accepted, a case opened in one step
from a rectification item, the fine's discretion range and its refusal next to the field, the case-file
review with its .xlsx, the organisations, what an auditor is offered (nothing), and penalty down."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from typing import Any

import httpx

from shared.dates import china_today
from tests.unit.console.support import bearer_claims, csrf_of

EMPLOYER = "91141029MA0GRT8U3L"
CASE = "5bf5e4c1-d80d-4a2f-9e31-9b77b9695128"
ITEM = "0c6e1f3a-7d2b-4a4e-9f81-3b5d2c7e4a10"
SCREENING = "aa6c6e04-3b8c-5453-ae93-ca634500edb4"
TODAY = china_today()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def chinese(iso: str) -> str:
    year, month, dd = (int(p) for p in iso.split("-"))
    return f"{year}年{month}月{dd}日"


def step(seq: int, name: str, status: str, on: str, detail: str, deadline: str | None = None) -> dict[str, Any]:
    return {"seq": seq, "step": name, "status": status, "on": on, "by": "county 141029", "deadline": deadline, "detail": detail}


def a_case(**changes: Any) -> dict[str, Any]:
    """A case as GET penalty /cases/{id} answers it (views.case_detail)."""
    return {"id": CASE, "case_code": "14102920260000011", "credit_code": EMPLOYER, "region_code": "141029", "item_code": "70-4",
            "found_on": day(-3), "harm": "none", "major": False, "corrected_on": None, "rectification_deadline": None, "deadline": None,
            "procedure": None, "status": "open", "decision": None,
            "reasons": ["符合不予处罚的条件（列入清单、初次违法、没有危害后果或危害后果轻微），待整改期限内改正"],
            "trace": [{"rule": "附件5 首次轻微违法行为不予处罚清单", "detail": "70-4：未组织劳动者进行职业卫生培训", "code": "x", "params": {}},
                      {"rule": "可否不予处罚", "detail": "可不予处罚，待按期改正", "code": "y", "params": {}}],
            "rule_set": {"composed_of": ["CN v2021.1 (effective 2021-07-15, provisional)"]}, "first_time": True, "circumstance": None,
            "proposed_fine_range": None, "proposed_fine": None, "fine_yuan": None, "departure_reason": None, "closed_on": None,
            "decided_on": None, "description": None,
            "timeline": [step(1, "opened", "recorded", day(-3), "立案 14102920260000011：发现违法事项 70-4")],
            "next": ["education"], "screening": None, **changes}


class FakePenalty:
    """Penalty's case routes over one case that each step moves on, recording what each POST carried."""

    def __init__(self, console: Any, case: dict[str, Any]) -> None:
        self.case, self.sent = case, {}
        apis = console.apis
        apis.answer_with("GET", "penalty", f"/cases/{CASE}", lambda r: httpx.Response(200, json=self.case))
        apis.answer_with("GET", "penalty", "/reviews/cases", lambda r: httpx.Response(200, json={
            "region_code": "141029", "total": 1, "flagged": 0, "items": [{**self.case, "flags": [], "flag_texts": []}]}))
        apis.answer("GET", "penalty", "/rules/no-penalty", 200, {"procedure": {"rectification_working_days": 10, "notice_and_commitment": False,
                                                                            "commitment_working_days": 10}})
        for action in ("education", "rectification-order", "verification", "fine"):
            apis.answer_with("POST", "penalty", f"/cases/{CASE}/{action}", self._taking(action))

    def _taking(self, action: str):  # noqa: ANN202
        def take(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            self.sent[action] = (body, bearer_claims(request))
            timeline = self.case["timeline"]
            if action == "education":
                self.case = {**self.case, "status": "educated", "procedure": "three_step",
                             "timeline": [*timeline, step(2, "educated", "educated", body["on"], f"教育引导：{body['content']}")]}
            elif action == "rectification-order":
                due = day(14)
                self.case = {**self.case, "status": "rectifying", "deadline": due, "rectification_deadline": due, "timeline": [
                    *timeline, step(3, "rectification_ordered", "rectifying", body["ordered_on"],
                                    f"责令限期改正：自{chinese(body['ordered_on'])}起{body['working_days']}个工作日，期限至{chinese(due)}", due)]}
            elif action == "verification":
                self.case = {**self.case, "status": "closed", "decision": "no_penalty", "corrected_on": body["corrected_on"],
                             "closed_on": body["verified_on"], "decided_on": body["verified_on"],
                             "reasons": ["初次违法、危害后果轻微并按期改正：依据行政处罚法第三十三条不予处罚"],
                             "timeline": [*timeline, step(4, "correction_verified", "rectifying", body["verified_on"], "复查：按期改正"),
                                          step(5, "decided", "closed", body["verified_on"], "决定不予处罚"),
                                          step(6, "closed", "closed", body["verified_on"], "结案：不予处罚")]}
            return httpx.Response(201, json=self.case)

        return take


def posted(browser, url: str, page: httpx.Response, **fields: Any) -> httpx.Response:  # noqa: ANN001
    return browser.post(url, data={"csrf_token": csrf_of(page), **fields})


def test_a_violation_goes_through_the_three_steps_to_closure_with_the_working_day_deadline_shown(console):
    penalty = FakePenalty(console, a_case())
    county = console.signed_in("county", "141029")

    listed = county.get("/cases")
    assert listed.status_code == 200 and "14102920260000011" in listed.text and "已立案（1）" in listed.text
    page = county.get(f"/cases/{CASE}")
    assert page.status_code == 200
    assert re.search(r'data-state="current"[^>]*>\s*▶ 教育引导\s', page.text)  # no 告知承诺 where the rules do not enable it
    assert 'id="form-education"' in page.text and 'id="form-commitment"' not in page.text
    assert "70-4：未组织劳动者进行职业卫生培训" in page.text and "待整改期限内改正" in page.text  # trace and reasons in words

    done = posted(county, f"/cases/{CASE}/education", page, on=day(-2), content="讲解职业卫生培训义务")
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{CASE}?done=education"
    body, claims = penalty.sent["education"]
    assert body == {"on": day(-2), "content": "讲解职业卫生培训义务"}
    assert (claims["role"], claims["region"], claims["name"]) == ("county", "141029", "county 141029")  # the officer's own token

    page = county.get(f"/cases/{CASE}?done=education")
    assert "教育引导已记录" in page.text and 'id="form-rectification-order"' in page.text and "本地区规则：10 个工作日" in page.text
    posted(county, f"/cases/{CASE}/rectification-order", page, ordered_on=day(0), working_days="10")
    assert penalty.sent["rectification-order"][0] == {"ordered_on": day(0), "working_days": 10}

    page = county.get(f"/cases/{CASE}")
    due = chinese(day(14))
    assert f"期限至 {due}" in page.text and "还剩 14 天" in page.text and "10个工作日" in page.text
    assert re.search(r'data-state="current"[^>]*>\s*▶ 复查\s*<small data-deadline="' + day(14), page.text)
    assert 'id="form-verification"' in page.text

    posted(county, f"/cases/{CASE}/verification", page, verified_on=day(0), corrected="true", corrected_on=day(-1))
    assert penalty.sent["verification"][0] == {"verified_on": day(0), "corrected": True, "corrected_on": day(-1)}
    page = county.get(f"/cases/{CASE}?done=verification")
    assert "已结案" in page.text and "不予处罚" in page.text and "第三十三条" in page.text
    assert 'id="next-step"' not in page.text and 'data-state="current"' not in page.text
    assert [s for s in re.findall(r'data-state="(\w+)"', page.text)] == ["done"] * 6
    assert "已结案（1）" in county.get("/cases").text


def item_state(status: str = "open", submissions: list | None = None, history: list | None = None) -> dict[str, Any]:
    return {"id": ITEM, "credit_code": EMPLOYER, "region_code": "141029",
            "shortcoming": {"code": "checklist:4.3", "kind": "checklist", "subject": "4.3", "text": "自查表 4.3 检测、评价结果存档、上报、公布: 得分 0 / 3"},
            "screening_id": SCREENING, "outcome": "eligible_if_corrected", "item_code": "70-1", "submission_id": "r1", "status": status,
            "deadline": day(10), "raised_on": day(-4), "updated_on": day(0), "deadline_basis": "10个工作日", "screening": {"trace": []},
            "history": history or [{"seq": 1, "step": "raised", "status": "open", "on": day(-4), "actor": "system", "detail": "下达整改",
                                    "deadline": day(10)}],
            "submissions": submissions or []}


def multipart_of(request: httpx.Request) -> dict[str, Any]:
    """The parts of a multipart request: name → text, or (filename, content type, bytes) for a file."""
    message = message_from_bytes(f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode() + request.content, policy=email_policy)
    parts: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        parts[name] = (filename, part.get_content_type(), payload) if filename else payload.decode()
    return parts


def test_an_employer_submits_a_correction_with_an_attachment_staff_return_it_with_a_reason_then_accept_it(console):
    state = {"item": item_state(), "uploads": [], "reviews": []}
    apis = console.apis
    apis.answer_with("GET", "registry", f"/rectifications/{ITEM}", lambda r: httpx.Response(200, json=state["item"]))
    apis.answer("GET", "penalty", f"/screenings/{SCREENING}", 200, {"id": SCREENING, "case_id": None, "case_code": None})

    def submit(request: httpx.Request) -> httpx.Response:
        parts = multipart_of(request)
        state["uploads"].append((parts, bearer_claims(request)))
        n = len(state["item"]["submissions"]) + 1
        attachments = [{"n": n, "filename": parts["files"][0], "content_type": parts["files"][1], "size": len(parts["files"][2]), "sha256": "ab"}]
        submission = {"n": n, "text": parts["text"], "submitted_on": day(0), "actor": EMPLOYER, "attachments": attachments, "review": None}
        state["item"] = item_state("submitted", [*state["item"]["submissions"], submission])
        return httpx.Response(201, json=state["item"])

    def review(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        state["reviews"].append((body, bearer_claims(request)))
        if body["decision"] == "return" and not body.get("reason"):
            message = "退回整改材料须说明理由"
            return httpx.Response(422, json={"detail": message, "code": "errors.rectification.return_needs_reason",
                                             "errors": [{"field": "reason", "code": "errors.rectification.return_needs_reason", "message": message}]})
        *earlier, last = state["item"]["submissions"]
        stored = "accepted" if body["decision"] == "accept" else "returned"  # as the registry keeps a review
        reviewed = {**last, "review": {"decision": stored, "on": day(0), "by": "county 141029 (county 141029, console:x)", "reason": body.get("reason")}}
        state["item"] = item_state("cleared" if body["decision"] == "accept" else "returned", [*earlier, reviewed])
        return httpx.Response(200, json=state["item"])

    apis.answer_with("POST", "registry", f"/rectifications/{ITEM}/submission", submit)
    apis.answer_with("POST", "registry", f"/rectifications/{ITEM}/review", review)
    apis.answer_with("GET", "registry", f"/rectifications/{ITEM}/attachments/1", lambda r: httpx.Response(
        200, content=PNG, headers={"content-type": "image/png", "content-disposition": "attachment; filename*=UTF-8''%E6%95%B4%E6%94%B9.png"}))

    employer = console.signed_in("employer", EMPLOYER)
    page = employer.get(f"/rectifications/{ITEM}")
    assert page.status_code == 200 and 'id="submission"' in page.text and 'enctype="multipart/form-data"' in page.text
    sent = employer.post(f"/rectifications/{ITEM}/submission", data={"csrf_token": csrf_of(page), "text": "已将检测结果存档并在公告栏公布"},
                         files=[("files", ("整改照片.png", PNG, "image/png")), ("files", ("", b"", "application/octet-stream"))])
    assert sent.status_code == 303 and sent.headers["location"] == f"/rectifications/{ITEM}?done=submitted"
    parts, claims = state["uploads"][0]
    assert parts["text"] == "已将检测结果存档并在公告栏公布" and parts["files"] == ("整改照片.png", "image/png", PNG)  # the empty input is not sent
    assert (claims["role"], claims["credit_code"]) == ("employer", EMPLOYER)
    page = employer.get(f"/rectifications/{ITEM}?done=submitted")
    assert "整改材料已提交" in page.text and "已提交" in page.text and "待审核" in page.text and 'id="submission"' not in page.text
    download = employer.get(f"/rectifications/{ITEM}/attachments/1")
    assert download.status_code == 200 and download.content == PNG and download.headers["content-type"] == "image/png"
    assert "filename*=UTF-8''%E6%95%B4%E6%94%B9.png" in download.headers["content-disposition"]
    assert bearer_claims(apis.calls_to("registry", f"/rectifications/{ITEM}/attachments/1")[-1])["credit_code"] == EMPLOYER

    county = console.signed_in("county", "141029")
    page = county.get(f"/rectifications/{ITEM}")
    assert 'id="review"' in page.text and "整改照片.png" in page.text
    refused = posted(county, f"/rectifications/{ITEM}/review", page, decision="return", reason="")
    assert refused.status_code == 422 and re.search(r'id="f-reason"[^>]*>\s*</textarea>\s*<p class="problem" id="p-reason" data-field="reason">'
                                                    r"退回整改材料须说明理由</p>", refused.text)
    posted(county, f"/rectifications/{ITEM}/review", page, decision="return", reason="照片看不清公告栏内容，请重新拍摄")
    assert state["reviews"][-1][0] == {"decision": "return", "reason": "照片看不清公告栏内容，请重新拍摄"}
    assert state["reviews"][-1][1]["role"] == "county"

    page = employer.get(f"/rectifications/{ITEM}")
    assert "已退回" in page.text and "照片看不清公告栏内容，请重新拍摄" in page.text and 'id="submission"' in page.text
    employer.post(f"/rectifications/{ITEM}/submission", data={"csrf_token": csrf_of(page), "text": "重新拍摄了公告栏"},
                  files=[("files", ("公告栏.png", PNG, "image/png"))])
    page = county.get(f"/rectifications/{ITEM}")
    accepted = posted(county, f"/rectifications/{ITEM}/review", page, decision="accept")
    assert accepted.headers["location"] == f"/rectifications/{ITEM}?done=cleared"
    assert state["reviews"][-1][0] == {"decision": "accept"}
    page = employer.get(f"/rectifications/{ITEM}")
    assert "已解除" in page.text and 'data-review="accepted"' in page.text and 'data-review="returned"' in page.text


def test_staff_open_the_case_of_a_rectification_item_in_one_step_from_the_screening_it_came_from(console):
    apis = console.apis
    apis.answer("GET", "registry", f"/rectifications/{ITEM}", 200, item_state())
    apis.answer("GET", "penalty", f"/screenings/{SCREENING}", 200, {"id": SCREENING, "case_id": None, "case_code": None})
    apis.answer("POST", "penalty", f"/screenings/{SCREENING}/case", 201, a_case(status="rectifying", deadline=day(10)))
    county = console.signed_in("county", "141029")
    page = county.get(f"/rectifications/{ITEM}")
    assert 'action="/rectifications/' + ITEM + '/case"' in page.text
    opened = posted(county, f"/rectifications/{ITEM}/case", page)
    assert opened.status_code == 303 and opened.headers["location"] == f"/cases/{CASE}?done=opened"
    call = apis.calls_to("penalty", f"/screenings/{SCREENING}/case")[-1]
    assert call.method == "POST" and bearer_claims(call)["region"] == "141029"

    # once opened, the screening names its case: the item links to it and offers no second case
    apis.answer("GET", "penalty", f"/screenings/{SCREENING}", 200, {"id": SCREENING, "case_id": CASE, "case_code": "14102920260000011"})
    page = county.get(f"/rectifications/{ITEM}")
    assert f'href="/cases/{CASE}"' in page.text and "/case\"" not in page.text


def test_a_screening_opens_its_case_once_and_a_second_try_leads_to_the_case_it_has(console):
    screening = {"id": SCREENING, "submission_id": "r1", "credit_code": EMPLOYER, "region_code": "141029", "screened_on": day(-4),
                 "shortcoming": {"code": "checklist:4.3", "text": "自查表 4.3 检测、评价结果存档、上报、公布: 得分 0 / 3"}, "item_code": "70-1",
                 "provision_code": "70-1", "duty": "职业病防治法 第二十六条第三款", "outcome": "eligible_if_corrected", "deadline": day(10),
                 "reasons": [], "trace": [{"rule": "筛查结论", "detail": "于期限前改正的，可不予处罚"}], "case_id": None, "item_id": ITEM,
                 "rectification_status": "open"}
    console.apis.answer("GET", "penalty", "/screenings", 200, {"total": 1, "limit": 50, "offset": 0, "items": [screening]})
    console.apis.answer("GET", "penalty", f"/screenings/{SCREENING}", 200, screening)
    console.apis.answer("POST", "penalty", f"/screenings/{SCREENING}/case", 201, a_case())
    county = console.signed_in("county", "141029")
    listed = county.get("/screenings?outcome=eligible_if_corrected")
    assert f'href="/screenings/{SCREENING}"' in listed.text and "改正后可不予处罚" in listed.text
    assert console.apis.calls_to("penalty", "/screenings")[-1].url.params["outcome"] == "eligible_if_corrected"
    page = county.get(f"/screenings/{SCREENING}")
    assert "于期限前改正的，可不予处罚" in page.text and f'href="/rectifications/{ITEM}"' in page.text and 'id="open-case"' in page.text
    assert posted(county, f"/screenings/{SCREENING}/case", page).headers["location"] == f"/cases/{CASE}?done=opened"

    console.apis.answer("POST", "penalty", f"/screenings/{SCREENING}/case", 409, {"detail": "筛查已立案", "code": "x", "errors": []})
    console.apis.answer("GET", "penalty", f"/screenings/{SCREENING}", 200, {**screening, "case_id": CASE, "case_code": "14102920260000011"})
    again = posted(county, f"/screenings/{SCREENING}/case", page)
    assert again.headers["location"] == f"/cases/{CASE}?done=already"


def test_where_the_rules_enable_it_an_open_case_offers_the_commitment_with_the_jurisdictions_period(console):
    console.apis.answer("GET", "penalty", f"/cases/{CASE}", 200, a_case())
    console.apis.answer("GET", "penalty", "/rules/no-penalty", 200, {"procedure": {"notice_and_commitment": True, "commitment_working_days": 15}})
    console.apis.answer("POST", "penalty", f"/cases/{CASE}/commitment", 201, a_case(status="committed"))
    county = console.signed_in("county", "141029")
    page = county.get(f"/cases/{CASE}")
    assert 'id="form-commitment"' in page.text and "本地区规则：15 个工作日" in page.text and "▶ 教育引导或告知承诺" in page.text
    assert console.apis.calls_to("penalty", "/rules/no-penalty")[-1].url.params["region_code"] == "141029"
    posted(county, f"/cases/{CASE}/commitment", page, signed_on=day(0), commit_by_working_days="")
    assert json.loads(console.apis.calls_to("penalty", f"/cases/{CASE}/commitment")[-1].content) == {"signed_on": day(0)}


def test_the_fine_shows_the_discretion_range_and_a_fine_outside_it_without_a_reason_is_refused_next_to_the_field(console):
    proposed = {"provision": "职业病防治法 第七十二条", "circumstance": "first_overdue", "min_yuan": 50000, "max_yuan": 100000,
                "statutory_max_yuan": 200000, "baseline": "CN v2021.1"}
    console.apis.answer("GET", "penalty", f"/cases/{CASE}", 200, a_case(item_code="72-1", status="penalty_pending", decision="penalty",
                                                                       circumstance="first_overdue", proposed_fine=proposed))
    message = "罚款120000元超出裁量基准幅度50000–100000元（首次逾期未改正）：偏离基准须说明理由"
    console.apis.answer("POST", "penalty", f"/cases/{CASE}/fine", 422, {"detail": message, "code": "penalty.error.fine_outside_baseline", "errors": [
        {"field": "departure_reason", "code": "penalty.error.fine_outside_baseline", "message": message}]})
    county = console.signed_in("county", "141029")
    page = county.get(f"/cases/{CASE}")
    assert re.search(r'id="fine-range">裁量基准建议：<strong>50000–100000 元</strong>（首次逾期未改正）', page.text)
    refused = posted(county, f"/cases/{CASE}/fine", page, fine_yuan="120000", circumstance="", departure_reason="")
    assert json.loads(console.apis.calls_to("penalty", f"/cases/{CASE}/fine")[-1].content) == {"fine_yuan": 120000}
    assert refused.status_code == 422 and "Traceback" not in refused.text
    assert re.search(r'id="f-departure_reason"[^>]*aria-invalid="true"[^>]*>\s*</textarea>\s*<p class="problem" id="p-departure_reason" '
                     r'data-field="departure_reason">' + re.escape(message), refused.text)
    assert 'value="120000"' in refused.text  # what was typed stays


def test_an_auditor_reads_every_enforcement_page_and_is_offered_no_form(console):
    console.apis.answer("GET", "penalty", f"/cases/{CASE}", 200, a_case())
    console.apis.answer("GET", "registry", f"/rectifications/{ITEM}", 200, item_state("submitted"))
    console.apis.answer("GET", "penalty", f"/screenings/{SCREENING}", 200, {
        "id": SCREENING, "submission_id": "r1", "credit_code": EMPLOYER, "region_code": "141029", "screened_on": day(-4),
        "shortcoming": {"code": "checklist:4.3", "text": "自查表 4.3"}, "outcome": "eligible_if_corrected", "deadline": day(10),
        "reasons": [], "trace": [], "case_id": None, "item_id": ITEM, "rectification_status": "submitted"})
    console.apis.answer("GET", "penalty", "/orgs/91140100MA0ORG0001", 200, {"org_credit_code": "91140100MA0ORG0001", "disqualified": False,
                                                                            "findings": [], "disqualifications": []})
    auditor = console.signed_in("auditor", "141000")
    for url in (f"/cases/{CASE}", f"/rectifications/{ITEM}", f"/screenings/{SCREENING}", "/orgs/91140100MA0ORG0001"):
        page = auditor.get(url)
        assert page.status_code == 200, url
        assert re.findall(r'<form method="post" action="([^"]+)"', page.text) == ["/logout"], url
    page = auditor.get(f"/cases/{CASE}")
    refused = posted(auditor, f"/cases/{CASE}/education", page, on=day(0), content="x")
    assert refused.status_code == 404 and not console.apis.calls_to("penalty", f"/cases/{CASE}/education")


def test_penalty_down_is_a_page_naming_it_and_an_item_page_keeps_the_registrys_part(console):
    console.apis.answer("GET", "registry", f"/rectifications/{ITEM}", 200, item_state())
    console.apis.down.add("penalty")
    county = console.signed_in("county", "141029")
    cases = county.get("/cases")
    assert cases.status_code == 503 and "执法服务 (penalty)" in cases.text and "Traceback" not in cases.text
    item = county.get(f"/rectifications/{ITEM}")
    assert item.status_code == 200 and 'data-down="penalty"' in item.text and "自查表 4.3" in item.text


def test_the_case_file_review_shows_the_flags_and_streams_the_xlsx_with_the_persons_token(console):
    flagged = {**a_case(status="closed", decision="no_penalty"), "flags": ["missing_verification"], "flag_texts": ["缺少复查记录"]}
    console.apis.answer("GET", "penalty", "/reviews/cases", 200, {"region_code": "141000", "total": 1, "flagged": 1, "items": [flagged]})
    workbook = b"PK\x03\x04 an xlsx"
    console.apis.answer_with("GET", "penalty", "/reviews/cases.xlsx", lambda r: httpx.Response(200, content=workbook, headers={
        "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "content-disposition": "attachment; filename=case-review-141029.xlsx"}))
    city = console.signed_in("city", "141000")
    page = city.get("/reviews?region_code=141029&from=2026-01-01")
    assert page.status_code == 200 and "缺少复查记录" in page.text and 'href="/reviews/cases.xlsx?region_code=141029&amp;from=2026-01-01"' in page.text
    assert console.apis.calls_to("penalty", "/reviews/cases")[-1].url.params["region_code"] == "141029"
    download = city.get("/reviews/cases.xlsx?region_code=141029&from=2026-01-01")
    assert download.content == workbook and download.headers["content-disposition"] == "attachment; filename=case-review-141029.xlsx"
    call = console.apis.calls_to("penalty", "/reviews/cases.xlsx")[-1]
    assert dict(call.url.params) == {"region_code": "141029", "from": "2026-01-01"} and bearer_claims(call)["role"] == "city"


def test_the_province_disqualifies_an_organisation_on_its_serious_findings_and_a_county_only_records_findings(console):
    org = "91140100MA0ORG0001"
    finding = {"id": "f-1", "org_name": "某检测公司", "region_code": "141029", "employer_credit_code": EMPLOYER, "misstated": ["exposure"],
               "description": "篡改接触水平", "severity": "serious", "found_on": day(-5), "status": "referred"}
    console.apis.answer("GET", "penalty", f"/orgs/{org}", 200, {"org_credit_code": org, "disqualified": False, "findings": [finding],
                                                               "disqualifications": []})
    console.apis.answer("POST", "penalty", f"/orgs/{org}/disqualification", 200, {"id": "d-1"})
    county = console.signed_in("county", "141029")
    page = county.get(f"/orgs/{org}")
    assert 'id="finding-form"' in page.text and 'id="disqualification-form"' not in page.text and "接触水平" in page.text
    assert posted(county, f"/orgs/{org}/disqualification", page, decision_no="x", decided_on=day(0)).status_code == 404

    province = console.signed_in("province", "140000")
    page = province.get(f"/orgs/{org}")
    assert 'name="finding_ids" value="f-1" checked' in page.text  # the referred serious finding, offered
    done = posted(province, f"/orgs/{org}/disqualification", page, decision_no="晋卫监罚〔2026〕12号", decided_on=day(0), finding_ids="f-1")
    assert done.headers["location"] == f"/orgs/{org}?done=disqualified"
    call = console.apis.calls_to("penalty", f"/orgs/{org}/disqualification")[-1]
    assert json.loads(call.content) == {"decision_no": "晋卫监罚〔2026〕12号", "finding_ids": ["f-1"], "decided_on": day(0)}
    assert bearer_claims(call)["role"] == "province"
