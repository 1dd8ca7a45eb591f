"""A report's shortcomings become work (issue 13), as the employer and the county see it: five service
processes, a real broker, a real SMTP server, HTTP only.

(a) a checklist that says test results were not published (item 4.3 lost points) → the screening
"eligible for no penalty if corrected" (附件5 70-1) for the county, the portrait and a rectification
item for the employer → the employer submits its correction with a PDF → the county accepts → cleared
(解除): the portrait improves, the figures move, the employer is told in its inbox and by e-mail; a
report disclosing the same shortcoming again is "not eligible", naming the earlier one;
(b) an out-of-date test → "not eligible" (职业病防治法 §72), its item raised all the same;
(c) an item not corrected by its deadline → reminded → listed for enforcement → the county opens a case
from the screening, and the case carries the screening's trace;
(d) a bad attachment → 422 naming why, nothing stored."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.support import auth, days_ago, eventually_get, eventually_sync, new_credit_code, report_for

pytestmark = pytest.mark.e2e

COUNTY = auth("county", name="乡宁县 张三")
CHECKLIST = {  # the provisional 附件2 items (RULES §3) at full points
    "1.1": 4, "1.2": 3, "1.3": 4, "1.4": 4, "1.5": 3, "1.6": 2, "2.1": 5, "2.2": 3, "3.1": 3, "3.2": 4, "3.3": 4, "3.4": 3,
    "4.1": 6, "4.2": 3, "4.3": 3, "5.1": 7, "5.2": 7, "6.1": 4, "6.2": 6, "7.1": 8, "7.2": 3, "7.3": 3, "7.4": 2, "8.1": 6,
}


def report_losing(code: str, item: str | None = None, *, silica_tested_on: str | None = None) -> dict[str, Any]:
    """A recent, well-run report that lost the points of one checklist ``item`` (or none); with
    ``silica_tested_on``, a 矽尘 exposure tested that day (a 严重 factor is tested yearly)."""
    report = report_for(code, assessed_on=days_ago(10), publicity={"start": days_ago(9), "end": days_ago(2)})
    report["hazards"] = [{"factor": "噪声", "exposed": 30, "compliant": True, "tested_on": days_ago(30), "test_report_no": "JC-N-1"}]
    if silica_tested_on:
        report["hazards"].append({"factor": "矽尘", "exposed": 12, "compliant": True, "tested_on": silica_tested_on, "test_report_no": "JC-S-1"})
    report["self_check"] = {"items": {**CHECKLIST, **({item: 0} if item else {})}}
    return report


def submit(system: dict[str, str], report: dict[str, Any], employer: dict[str, str]) -> None:
    response = httpx.post(f"{system['assessment']}/reports", json=report, timeout=10, headers=employer)
    assert response.status_code == 202, response.text


def screening_of(system: dict[str, str], code: str, shortcoming: str, submission_id: str) -> dict[str, Any]:
    def found(response: httpx.Response) -> Any:
        return [s for s in response.json()["items"] if s["shortcoming"]["code"] == shortcoming and s["submission_id"] == submission_id]

    return found(eventually_get(f"{system['penalty']}/screenings?credit_code={code}", found, headers=COUNTY, timeout=20))[0]


def item_of(system: dict[str, str], code: str, shortcoming: str, headers: dict[str, str], status: str | None = None) -> dict[str, Any]:
    def found(response: httpx.Response) -> Any:
        return [i for i in response.json()["items"] if i["shortcoming"]["code"] == shortcoming and (status is None or i["status"] == status)]

    return found(eventually_get(f"{system['registry']}/rectifications?credit_code={code}", found, headers=headers, timeout=20))[0]


def portrait_codes(portrait: dict[str, Any]) -> dict[str, set[str]]:
    return {d["name"]: {s["code"] for s in d["shortcomings"]} for d in portrait["dimensions"]}


def county_figures(system: dict[str, str]) -> dict[str, Any]:
    response = httpx.get(f"{system['registry']}/figures", params={"region_code": "141029"}, headers=COUNTY, timeout=10)
    assert response.status_code == 200, response.text
    (row,) = [r for r in response.json()["rows"] if r["region_code"] == "141029"]
    return row


def a_pdf(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def sweep_rectifications(system: dict[str, str], day: date) -> str:
    """The registry's daily sweep, as the operator's cron runs it, for ``day``."""
    done = subprocess.run(
        [sys.executable, "-m", "services.registry.sweep", "--today", day.isoformat(), "--database-url", system["registry_database_url"]],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_published_test_result_missing_runs_the_loop_to_release(system: dict[str, str], mailbox) -> None:
    code = new_credit_code()
    employer = auth("employer", code)
    mail = f"hse-{code[-6:].lower()}@example.cn"
    assert httpx.put(f"{system['notification']}/contacts/me", json={"email": mail}, headers=employer, timeout=10).status_code == 200
    before = county_figures(system)

    first = report_losing(code, "4.3")
    submit(system, first, employer)
    # the county sees the screening: 70-1 is on the 附件5 list, a first time, so no penalty if corrected in time
    screening = screening_of(system, code, "checklist:4.3", first["submission_id"])
    assert (screening["outcome"], screening["item_code"]) == ("eligible_if_corrected", "70-1")
    assert date.fromisoformat(screening["deadline"]) > date.today() - timedelta(days=1)
    assert any("70-1" in line["detail"] for line in screening["trace"]), screening["trace"]
    # the employer sees its item and its portrait
    item = item_of(system, code, "checklist:4.3", employer, status="open")
    assert item["deadline"] == screening["deadline"]
    portrait = eventually_get(f"{system['registry']}/enterprises/{code}/portrait", lambda r: r.status_code == 200, headers=employer).json()
    assert "checklist:4.3" in set().union(*portrait_codes(portrait).values())

    # the employer corrects and says so, with a PDF; the county reviews and accepts: 解除
    sent = httpx.post(
        f"{system['registry']}/rectifications/{item['id']}/submission", headers=employer, timeout=10,
        data={"text": "检测结果已在公告栏公布并报送卫生健康主管部门"},
        files=[("files", ("公告栏照片说明.pdf", a_pdf("JC-N-1 published 2026"), "application/pdf"))],
    )
    assert sent.status_code in (200, 201), sent.text
    assert sent.json()["status"] == "submitted"
    reviewed = httpx.post(f"{system['registry']}/rectifications/{item['id']}/review", json={"decision": "accept"}, headers=COUNTY, timeout=10)
    assert reviewed.status_code in (200, 201), reviewed.text
    assert reviewed.json()["status"] == "cleared"

    # the portrait improves in a new version; penalty knows it was corrected in time
    improved = eventually_get(
        f"{system['registry']}/enterprises/{code}/portrait",
        lambda r: r.json()["version"] > portrait["version"] and "checklist:4.3" not in set().union(*portrait_codes(r.json()).values()),
        headers=employer, timeout=20,
    ).json()
    assert improved["version"] > portrait["version"]
    corrected = eventually_get(
        f"{system['penalty']}/screenings/{screening['id']}", lambda r: r.json()["rectification_status"] == "cleared", headers=COUNTY, timeout=20,
    ).json()
    assert corrected["corrected_in_time"] is True
    # the figures moved: one more raised, one more cleared, one more screening eligible if corrected
    after = county_figures(system)
    assert after["shortcomings_raised"] >= before["shortcomings_raised"] + 1
    assert after["shortcomings_cleared"] == before["shortcomings_cleared"] + 1
    assert after["screenings"]["eligible_if_corrected"] >= before["screenings"]["eligible_if_corrected"] + 1
    xlsx = httpx.get(f"{system['registry']}/figures.xlsx", params={"region_code": "141029"}, headers=COUNTY, timeout=10)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    # the employer was told: in its web inbox, and by e-mail through the agency's SMTP server
    inbox = eventually_get(f"{system['notification']}/inbox", lambda r: len(r.json()["items"]) >= 3, headers=employer, timeout=20).json()
    assert any("解除" in n["subject"] or "cleared" in n["subject"].lower() for n in inbox["items"]), [n["subject"] for n in inbox["items"]]
    eventually_sync(lambda: mailbox.to(mail), 30, f"an e-mail to {mail}")



def test_the_same_listed_shortcoming_after_an_earlier_case_is_not_eligible_naming_the_case(system: dict[str, str]) -> None:
    """A year ago an inspection found 70-1 (results not published) and decided it; the report now discloses it again."""
    code = new_credit_code()
    employer = auth("employer", code)
    inspected = httpx.post(f"{system['penalty']}/violations", headers=COUNTY, timeout=10,
                           json={"credit_code": code, "item_code": "70-1", "found_on": days_ago(365), "harm": "none", "corrected_on": days_ago(365)})
    assert inspected.status_code == 201, inspected.text
    case_code = inspected.json()["case_code"]

    report = report_losing(code, "4.3")
    submit(system, report, employer)

    repeat = screening_of(system, code, "checklist:4.3", report["submission_id"])
    assert (repeat["outcome"], repeat["item_code"]) == ("not_eligible", "70-1")
    assert case_code in (repeat["earlier"] or "") and any(case_code in reason for reason in repeat["reasons"]), repeat


def test_an_out_of_date_test_is_not_eligible_but_raised_all_the_same(system: dict[str, str]) -> None:
    code = new_credit_code()
    employer = auth("employer", code)
    report = report_losing(code, silica_tested_on=days_ago(500))  # 矽尘 is 严重: tested yearly
    submit(system, report, employer)
    screening = screening_of(system, code, "test_expired:矽尘", report["submission_id"])
    assert screening["outcome"] == "not_eligible" and screening["item_code"] is None
    assert any("第七十二条" in reason for reason in screening["reasons"]), screening["reasons"]
    item = item_of(system, code, "test_expired:矽尘", employer)
    assert (item["status"], item["outcome"]) == ("open", "not_eligible")


def test_an_item_not_corrected_in_time_is_reminded_listed_and_becomes_a_case(system: dict[str, str]) -> None:
    code = new_credit_code()
    employer = auth("employer", code)
    report = report_losing(code, "1.2")  # no prevention plan: 附件5 70-2b
    submit(system, report, employer)
    screening = screening_of(system, code, "checklist:1.2", report["submission_id"])
    item = item_of(system, code, "checklist:1.2", employer)
    deadline = date.fromisoformat(item["deadline"])

    sweep_rectifications(system, deadline)
    reminded = eventually_get(f"{system['registry']}/rectifications/{item['id']}", lambda r: "reminded" in [s["step"] for s in r.json()["history"]],
                              headers=COUNTY).json()
    assert reminded["status"] == "open"
    sweep_rectifications(system, deadline + timedelta(days=1))
    overdue = item_of(system, code, "checklist:1.2", COUNTY, status="overdue")
    assert [s["step"] for s in httpx.get(f"{system['registry']}/rectifications/{overdue['id']}", headers=COUNTY).json()["history"]].count("reminded") == 1
    listed = eventually_get(f"{system['penalty']}/screenings/{screening['id']}", lambda r: r.json()["rectification_status"] == "overdue",
                            headers=COUNTY, timeout=20).json()

    opened = httpx.post(f"{system['penalty']}/screenings/{listed['id']}/case", headers=COUNTY, timeout=10)
    assert opened.status_code == 201, opened.text
    case = httpx.get(f"{system['penalty']}/cases/{opened.json()['id']}", headers=COUNTY, timeout=10).json()
    assert case["item_code"] == "70-2b"
    shown = str(case)
    assert all(line["detail"] in shown for line in listed["trace"]), "the case carries the screening's trace"
    again = httpx.post(f"{system['penalty']}/screenings/{listed['id']}/case", headers=COUNTY, timeout=10)
    assert again.status_code == 409, again.text


def test_a_bad_attachment_is_refused_naming_why_and_nothing_is_stored(system: dict[str, str]) -> None:
    code = new_credit_code()
    employer = auth("employer", code)
    report = report_losing(code, "6.2")
    submit(system, report, employer)
    item = item_of(system, code, "checklist:6.2", employer)
    url = f"{system['registry']}/rectifications/{item['id']}/submission"
    for files, why in [
        ([("files", ("培训记录.pdf", b"GIF89a not a pdf at all", "application/pdf"))], "pdf"),
        ([("files", ("培训记录.exe", b"MZ\x90\x00", "application/octet-stream"))], "type"),
    ]:
        refused = httpx.post(url, data={"text": "已培训"}, files=files, headers=employer, timeout=10)
        assert refused.status_code == 422, refused.text
        assert why in refused.text.lower(), refused.text
    shown = httpx.get(f"{system['registry']}/rectifications/{item['id']}", headers=employer, timeout=10).json()
    assert shown["status"] == "open" and shown["submissions"] == []
    assert httpx.get(f"{system['registry']}/rectifications/{item['id']}", headers=auth("employer", new_credit_code()), timeout=10).status_code == 404
