"""The employer's report journey in the console: the 综合风险评估报告 form built from the rule data in force, the
score as the checklist is answered, the preview of the classification with its trace, a refused submission that
keeps every value typed, the submission followed to its result and its PDFs.

Behind the console's fake transport answers the REAL assessment service (its app on SQLite, the rule data it
loads): the form is built from its ``/rules/report-form``, the running score and the preview are its own, its 422s
are the ones a browser would meet, and the report the console sends must be one it accepts. The registry is a fake
(the employer's archive)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.assessment.bootstrap import bootstrap as assessment_bootstrap
from services.assessment.service_layer import handlers as assessment_handlers
from shared.contracts import Report, ReportSubmitted
from shared.dates import china_today
from tests.support import app_without_broker
from tests.unit.console.support import bearer_claims, csrf_of

EMPLOYER = "91141029MA0GRT8U3L"  # 乡宁县 141029, the README's example employer
ARCHIVE = {"credit_code": EMPLOYER, "name": "乡宁县示例水泥有限公司", "region_code": "141029", "industry_codes": ["C3011"],
           "employees": 86, "production_started_on": "2016-04-01", "category": "丙"}


@pytest.fixture
def assessment(tmp_path: Path) -> Iterator[FastAPI]:
    folder = tmp_path / "assessment"
    folder.mkdir()
    app = app_without_broker(assessment_bootstrap, "assessment", folder)
    yield app
    app.state.runtime.engine.dispose()


def served_by(app: FastAPI):  # noqa: ANN201
    """The fake transport's answer for an assessment route: the real service's."""

    async def respond(request: httpx.Request) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assessment") as client:
            answer = await client.request(request.method, request.url.path, params=request.url.params, content=request.content,
                                          headers={k: v for k, v in request.headers.items() if k in ("authorization", "content-type", "accept-language")})
        return httpx.Response(answer.status_code, headers={k: v for k, v in answer.headers.items() if k in ("content-type", "content-disposition")},
                              content=answer.content)

    return respond


def with_real_assessment(console, app: FastAPI, *submission_ids: str) -> None:  # noqa: ANN001
    respond = served_by(app)
    for method, path in [("GET", "/rules/report-form"), ("POST", "/reports:preview"), ("POST", "/reports"), ("GET", "/reports")] + [
            ("GET", f"/reports/{i}{tail}") for i in submission_ids for tail in ("", "/document", "/notice")]:
        console.apis.answer_with(method, "assessment", path, respond)


def classify_in(app: FastAPI, submission_id: str) -> None:
    """What the assessment's consumer does when ``reports.submitted`` arrives (no broker in a unit test)."""
    with app.state.runtime.uow() as uow:
        stored = uow.submissions.get(submission_id)
        event = ReportSubmitted(producer="assessment", credit_code=stored.credit_code, submission_id=uuid.UUID(submission_id),
                                received_at=datetime.now(timezone.utc), report=Report.model_validate(stored.report))
        assessment_handlers.classify_submission(uow, event, app.state.rules)
        uow.commit()


class _Form(HTMLParser):
    """The values a browser would post from one form of a page (checked boxes only; a select's chosen option)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.values, self.select, self.first = form_id, False, {}, None, None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and "name" in a and (a.get("type") != "checkbox" or "checked" in a):
            self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select, self.first = a["name"], True
        elif tag == "option" and self.select:
            if self.first or "selected" in a:
                self.values[self.select] = a.get("value", "")
            self.first = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def form_of(page: httpx.Response, form_id: str = "report-form") -> dict[str, str]:
    parser = _Form(form_id)
    parser.feed(page.text)
    return parser.values


def problem_at(page: httpx.Response | str, name: str) -> str:
    """The message shown next to the input ``name`` (its place in the page, or the preview's out-of-band copy)."""
    text = page if isinstance(page, str) else page.text
    found = re.search(rf'<p class="problem" id="p-{re.escape(name)}" data-field="[^"]*"[^>]*>(.*?)</p>', text, re.S)
    assert found, f"no place for the problems of {name}"
    return unescape(found[1]).strip()


def shown_problems(page: httpx.Response) -> dict[str, str]:
    return {m[1]: unescape(m[2]) for m in re.finditer(r'<p class="problem" id="p-([^"]+)" data-field="[^"]*"[^>]*>([^<]+)</p>', page.text)}


def test_an_employer_fills_in_sees_the_score_and_the_preview_is_refused_loses_nothing_submits_and_reads_the_result(console, assessment):
    today = china_today()
    assessed_on, tested_on = today - timedelta(days=20), today - timedelta(days=40)
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}", 200, ARCHIVE)
    with_real_assessment(console, assessment)
    browser = console.signed_in("employer", EMPLOYER)

    # the form: the archive's name and county, the checklist of the rule data in force for 141029, item by item
    page = browser.get("/report/new")
    assert page.status_code == 200, page.text[:2000]
    form_call = console.apis.calls_to("assessment", "/rules/report-form")[-1]
    assert form_call.url.params["region_code"] == "141029" and bearer_claims(form_call)["credit_code"] == EMPLOYER
    fields = form_of(page)
    assert fields["enterprise.name"] == ARCHIVE["name"] and fields["enterprise.employees"] == "86" and fields["assessed_on"] == today.isoformat()
    items = sorted((name for name in fields if name.startswith("self_check.items.")), key=lambda n: [int(p) for p in n.split(".")[2:]])
    assert len(items) == 24 and all(fields[name] == "" for name in items)  # nothing answered yet
    assert "定期检测职业病危害因素" in page.text and "hazards[0].factor" in fields and "矽尘" in page.text  # item 4.1; the catalogue
    token = csrf_of(page)

    # a second hazard row comes from the server (htmx), with the button for the next one
    row = browser.get("/report/hazard-row", params={"i": 1})
    assert 'name="hazards[1].exposed"' in row.text and 'hx-get="/report/hazard-row?i=2"' in row.text and 'hx-swap-oob="true"' in row.text
    fields.update({"assessed_on": assessed_on.isoformat(),
                   "hazards[0].factor": "矽尘", "hazards[0].exposed": "24", "hazards[0].compliant": "false",
                   "hazards[0].tested_on": tested_on.isoformat(), "hazards[0].test_report_no": "JC-2023-0511",
                   "hazards[1].factor": "噪声", "hazards[1].exposed": "40", "hazards[1].compliant": "true", "hazards[1].tested_on": tested_on.isoformat()})

    # part of the checklist answered: the running score, while the rest of the report is still empty
    full = {"self_check.items.1.1": "4", "self_check.items.1.2": "2", "self_check.items.1.3": "4", "self_check.items.1.4": "4",
            "self_check.items.1.5": "3", "self_check.items.1.6": "n/a"}
    fields.update(full)
    running = browser.post("/report/preview", data=fields, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert running.status_code == 200 and 'data-outcome="partial"' in running.text, running.text[:3000]
    assert 'data-earned="17.0" data-applicable="18.0"' in running.text  # 4+2+4+4+3 of 4+3+4+4+3; 1.6 不适用
    assert 'data-unanswered="18"' in running.text and "公示开始日期" in running.text and "签字人" in running.text  # still to fill in
    assert console.apis.calls_to("assessment", "/reports:preview")[-1].url.params["partial"] == "true"
    assert all(problem_at(running, name) == "" for name in ("publicity.start", "signed_by", "sealed", "hazards"))  # not yet is no error
    # a mistake elsewhere: its message next to its input, and the score is still shown
    wrong = browser.post("/report/preview", data={**fields, "hazards[1].tested_on": (assessed_on + timedelta(days=1)).isoformat()},
                         headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert "晚于评估日期" in problem_at(wrong, "hazards[1].tested_on") and 'data-corrections="1"' in wrong.text
    assert 'data-earned="17.0" data-applicable="18.0"' in wrong.text

    # every item answered and the report complete: the preview of the classification, with its trace in words
    for name in items:
        fields.setdefault(name, "")
        if fields[name] == "":
            fields[name] = re.search(r"（(\d+(?:\.\d+)?) 分）", page.text[page.text.index(f'for="f-{name}"'):]).group(1)  # full points
    fields.update({"self_check.items.5.1": "0", "self_check.items.7.1": "0", "self_check.items.6.2": "3.5", "self_check.items.1.6": "2",
                   "publicity.start": (assessed_on + timedelta(days=1)).isoformat(), "publicity.end": (assessed_on + timedelta(days=7)).isoformat(),
                   "signed_by": "张三", "sealed": "true"})
    preview = browser.post("/report/preview", data=fields, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert 'data-outcome="classified"' in preview.text, preview.text[:3000]
    assert "partial" not in console.apis.calls_to("assessment", "/reports:preview")[-1].url.params
    # 矽尘 严重, 24 exposed, 不符合 → Ⅲ; 100 − 7 − 8 − 2.5 − 1 (1.2) = 81.5 → B; Ⅲ × B → 丙 (README's example)
    assert 'data-hazard-grade="Ⅲ"' in preview.text and 'data-score="81.5"' in preview.text and 'data-management-grade="B"' in preview.text
    assert 'data-category="丙"' in preview.text and "附件3 综合风险类别" in preview.text and "Ⅲ × B → 丙" in preview.text
    assert "矽尘：接触水平不符合，接触24人" in preview.text and 'data-item="5.1"' in preview.text  # the trace; the lost points

    # the employer removes the second row and adds a third: the form now posts hazards[0] and hazards[2]
    removed = browser.get("/report/hazard-row/removed")
    assert removed.status_code == 200 and removed.headers["HX-Trigger"] == "hazards-changed"  # the form previews again
    for part in ("factor", "exposed", "compliant", "tested_on"):
        fields[f"hazards[2].{part}"] = fields.pop(f"hazards[1].{part}")
    # …with two mistakes: more exposed than employees on row 1, a test after the assessment on row 3 (the API's hazards[1])
    fields.update({"hazards[0].exposed": "200", "hazards[2].tested_on": (assessed_on + timedelta(days=1)).isoformat()})
    refused = browser.post("/report", data={**fields, "csrf_token": token})
    assert refused.status_code == 422
    assert "200" in problem_at(refused, "hazards[0].exposed") and "86" in problem_at(refused, "hazards[0].exposed")
    assert problem_at(refused, "hazards[2].tested_on") != ""  # the API's hazards[1] is the form's third row
    assert set(shown_problems(refused)) == {"hazards[0].exposed", "hazards[2].tested_on"}
    kept = form_of(refused)
    assert {k: v for k, v in kept.items() if v} == {k: v for k, v in fields.items() if v}  # every value typed is still there
    assert kept["hazards[0].exposed"] == "200" and kept["self_check.items.6.2"] == "3.5" and kept["sealed"] == "true"

    # put right and submitted: the submission's page
    fields.update({"hazards[0].exposed": "24", "hazards[2].tested_on": tested_on.isoformat()})
    submitted = browser.post("/report", data={**fields, "csrf_token": token})
    assert submitted.status_code == 303, submitted.text[:2000]
    submission_id = fields["submission_id"]
    assert submitted.headers["location"] == f"/submissions/{submission_id}"
    sent = console.apis.calls_to("assessment", "/reports")[-1]
    assert bearer_claims(sent)["credit_code"] == EMPLOYER and bearer_claims(sent)["role"] == "employer"
    # the same form changed and sent again: its submission id holds another report (409), said at the top of the kept form
    conflict = browser.post("/report", data={**fields, "signed_by": "李四", "csrf_token": token})
    banner = re.search(r'data-refused="true">(.*?)</div>', conflict.text, re.S)
    assert conflict.status_code == 409 and banner and f"提交编号 {submission_id} 已用于另一份内容不同的评估报告" in banner[1]
    assert form_of(conflict)["signed_by"] == "李四"

    with_real_assessment(console, assessment, submission_id)
    waiting = browser.get(submitted.headers["location"])
    assert 'data-status="accepted"' in waiting.text and 'hx-trigger="every 2s"' in waiting.text
    classify_in(assessment, submission_id)
    decided = browser.get(f"/submissions/{submission_id}/status")
    assert 'data-status="classified"' in decided.text and "every 2s" not in decided.text  # it stops asking
    assert 'data-category="丙"' in decided.text and "Ⅲ × B → 丙" in decided.text and f"/submissions/{submission_id}/document.pdf" in decided.text

    # the PDFs, streamed with the employer's own token
    pdf = browser.get(f"/submissions/{submission_id}/document.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "inline" in pdf.headers["content-disposition"] and EMPLOYER in pdf.headers["content-disposition"]
    claims = bearer_claims(console.apis.calls_to("assessment", f"/reports/{submission_id}/document")[-1])
    assert claims["role"] == "employer" and claims["credit_code"] == EMPLOYER and claims["sub"].startswith("console:")
    assert browser.get(f"/submissions/{submission_id}/notice.pdf").content.startswith(b"%PDF")
    assert browser.get(f"/submissions/{uuid.uuid4()}/notice.pdf").status_code == 404  # the API's 404 is the console's

    listed = browser.get("/submissions")
    assert f'data-submission="{submission_id}" data-status="classified"' in listed.text

    # the assessment service down: the page says which one, and the rest of it still works
    console.apis.down.add("assessment")
    down = browser.get("/report/new")
    assert down.status_code == 503 and 'data-down="assessment"' in down.text and "评估服务" in down.text
    assert form_of(down)["enterprise.name"] == ARCHIVE["name"] and 'href="/submissions"' in down.text
    assert 'data-down="assessment"' in browser.get("/submissions").text
    lost_preview = browser.post("/report/preview", data=fields, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert lost_preview.status_code == 200 and 'data-down="assessment"' in lost_preview.text


def test_an_auditor_gets_no_form_and_a_post_without_the_csrf_token_changes_nothing(console):
    auditor = console.signed_in("auditor", "141000")
    page = auditor.get("/submissions")  # an auditor reads (the list is the API's answer for its token)
    assert auditor.get("/report/new").status_code == 404
    assert auditor.post("/report", data={"csrf_token": csrf_of(page), "enterprise.name": "x"}).status_code == 404
    assert auditor.post("/report/preview", data={"csrf_token": csrf_of(page)}).status_code == 404
    assert 'href="/report/new"' not in page.text

    employer = console.signed_in("employer", EMPLOYER)
    employer.get("/submissions")
    forged = employer.post("/report", data={"enterprise.name": "x", "signed_by": "张三", "sealed": "true"})
    assert forged.status_code == 403
    assert not [c for c in console.apis.calls if c.method == "POST"]  # nothing was sent to any service


def test_county_staff_fill_one_in_for_an_employer_of_their_county(console, assessment):
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}", 200, ARCHIVE)
    with_real_assessment(console, assessment)
    staff = console.signed_in("county", "141029")
    assert 'name="credit_code"' in staff.get("/report/new").text  # whose report: asked first
    page = staff.get("/report/new", params={"credit_code": EMPLOYER})
    fields = form_of(page)
    assert fields["enterprise.credit_code"] == EMPLOYER and fields["enterprise.name"] == ARCHIVE["name"]
    fields["self_check.items.1.1"] = "3.5"
    running = staff.post("/report/preview", data=fields, headers={"X-CSRF-Token": csrf_of(page), "HX-Request": "true"})
    assert 'data-earned="3.5" data-applicable="4.0"' in running.text
    sent = console.apis.calls_to("assessment", "/reports:preview")[-1]
    assert bearer_claims(sent)["role"] == "county" and bearer_claims(sent)["region"] == "141029"
    listed = staff.get("/submissions", params={"credit_code": EMPLOYER, "status": "rejected"})
    assert listed.status_code == 200 and 'data-empty="filtered"' in listed.text  # none rejected
    assert dict(console.apis.calls_to("assessment", "/reports")[-1].url.params) == {"limit": "20", "offset": "0", "status": "rejected",
                                                                                  "credit_code": EMPLOYER}
