"""A report's journey, as a user sees it: four service processes, a real broker, HTTP only."""

from __future__ import annotations

import httpx
import pytest

from shared import topics
from tests.support import (
    EXAMPLE_REPORT,
    auth,
    days_ago,
    eventually_get,
    new_credit_code,
    new_credit_code_beside,
    report_for,
)

pytestmark = pytest.mark.e2e

# Who calls: the example employer for its own report, staff of 乡宁县 141029 / 临汾市 141000, and the
# province (山西 140000) where a test is about something else than access.
EMPLOYER, COUNTY, CITY, PROVINCE = auth("employer"), auth("county"), auth("city"), auth("province")


def test_the_example_report_is_classified_archived_and_pooled_as_bing(system):
    response = httpx.post(f"{system['assessment']}/reports", json=EXAMPLE_REPORT, timeout=10, headers=EMPLOYER)
    assert response.status_code == 202, response.text
    assert response.json()["submission_id"] == EXAMPLE_REPORT["submission_id"]

    code = EXAMPLE_REPORT["enterprise"]["credit_code"]
    archive = eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.status_code == 200, headers=COUNTY).json()
    assert (archive["category"], archive["hazard_grade"], archive["management_grade"], archive["score"]) == ("丙", "Ⅲ", "B", 82.5)
    trace = " ".join(entry["detail"] for entry in archive["trace"])
    assert "矽尘" in trace and "Ⅲ × B → 丙" in trace
    assert [v["version"] for v in archive["history"]] == [1]

    # other 141029 employers (earlier tests, replayed from offset 0) may arrive first: wait for this one
    pool = eventually_get(f"{system['sampling']}/pools/141029", lambda r: code in [m["credit_code"] for m in r.json()["members"]["丙"]], headers=COUNTY).json()
    assert pool["counts"]["丙"] == len(pool["members"]["丙"])

    status = httpx.get(f"{system['assessment']}/reports/{EXAMPLE_REPORT['submission_id']}", headers=EMPLOYER).json()
    assert status["status"] == "classified" and status["result"]["category"] == "丙"

    again = httpx.post(f"{system['assessment']}/reports", json=EXAMPLE_REPORT, timeout=10, headers=EMPLOYER)
    assert again.status_code == 202, "an identical resubmission is accepted once, not twice"
    # a later report on the same partitions, once archived, shows the registry has seen all it will of the resubmission
    marker = new_credit_code_beside(code, topics.REPORTS_SUBMITTED, topics.ASSESSMENTS_CLASSIFIED)
    httpx.post(f"{system['assessment']}/reports", json=report_for(marker), timeout=10, headers=COUNTY).raise_for_status()
    eventually_get(f"{system['registry']}/enterprises/{marker}", lambda r: r.status_code == 200, headers=COUNTY)
    assert len(httpx.get(f"{system['registry']}/enterprises/{code}", headers=EMPLOYER).json()["history"]) == 1


def test_an_employer_that_improves_moves_pool_and_never_sits_in_two(system):
    code = new_credit_code("141024")
    first = report_for(code, "141024")
    httpx.post(f"{system['assessment']}/reports", json=first, timeout=10, headers=CITY).raise_for_status()
    eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.status_code == 200 and r.json()["category"] == "丙")

    better = report_for(code, "141024", assessed_on=days_ago(10), publicity={"start": days_ago(9), "end": days_ago(2)})
    for hazard in better["hazards"]:
        hazard["tested_on"] = days_ago(30)  # re-tested this year: a 严重 employer's test is valid for 12 months
    better["hazards"][0]["compliant"] = True  # 矽尘 within the limit: 严重 × 符合 × 10–49 → Ⅱ
    better["self_check"] = {"score": 93}  # A; Ⅱ × A → 甲
    httpx.post(f"{system['assessment']}/reports", json=better, timeout=10, headers=CITY).raise_for_status()
    archive = eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.json()["category"] == "甲").json()
    assert [v["category"] for v in archive["history"]] == ["丙", "甲"]

    pool = eventually_get(f"{system['sampling']}/pools/141024", lambda r: code in [m["credit_code"] for m in r.json()["members"]["甲"]]).json()
    everywhere = [m["credit_code"] for members in pool["members"].values() for m in members]
    assert everywhere.count(code) == 1


def test_a_report_the_rules_cannot_classify_is_rejected_with_the_reason(system):
    report = report_for(new_credit_code())
    report["hazards"].append({"factor": "某新型溶剂", "exposed": 3, "compliant": True})
    httpx.post(f"{system['assessment']}/reports", json=report, timeout=10, headers=COUNTY).raise_for_status()
    status = eventually_get(f"{system['assessment']}/reports/{report['submission_id']}", lambda r: r.json()["status"] != "accepted").json()
    assert status["status"] == "rejected"
    assert any(reason.startswith("hazards[2].factor：") and "hazards[2].nature" in reason for reason in status["reasons"]), status["reasons"]


def test_a_bad_report_is_refused_naming_the_field(system):
    report = report_for("91141029MA0GRT8U3X")
    response = httpx.post(f"{system['assessment']}/reports", json=report, timeout=10, headers=COUNTY)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["enterprise.credit_code"]


def test_a_first_time_minor_violation_goes_unpenalised_and_the_second_does_not(system):
    code = new_credit_code()
    violation = {"credit_code": code, "item_code": "70-4", "found_on": days_ago(20), "harm": "none",
                 "corrected_on": days_ago(15), "rectification_deadline": days_ago(10)}
    first = httpx.post(f"{system['penalty']}/violations", json=violation, timeout=10, headers=COUNTY)
    assert first.status_code == 201, first.text
    decided = eventually_get(f"{system['penalty']}/cases/{first.json()['id']}", lambda r: r.json()["decision"] is not None).json()
    assert decided["decision"] == "no_penalty"

    repeat = dict(violation, found_on=days_ago(5), corrected_on=days_ago(4), rectification_deadline=days_ago(1))
    second = httpx.post(f"{system['penalty']}/violations", json=repeat, timeout=10, headers=COUNTY).json()
    decided = eventually_get(f"{system['penalty']}/cases/{second['id']}", lambda r: r.json()["decision"] is not None).json()
    assert decided["decision"] == "penalty"
    assert first.json()["case_code"] in " ".join(decided["reasons"]), decided["reasons"]  # names the earlier case (非初次违法)


def test_a_city_sees_the_pools_of_all_its_counties(system):
    code = new_credit_code("141082")  # 霍州市, in 临汾市 141000
    httpx.post(f"{system['assessment']}/reports", json=report_for(code, "141082"), timeout=10, headers=CITY).raise_for_status()
    city = eventually_get(f"{system['sampling']}/pools/141000", lambda r: code in [m["credit_code"] for m in r.json()["members"]["丙"]], headers=CITY).json()
    regions = {m["region_code"] for members in city["members"].values() for m in members}
    assert "141082" in regions and all(r.startswith("1410") for r in regions)
    assert code not in [m["credit_code"] for m in httpx.get(f"{system['sampling']}/pools/141029", headers=CITY).json()["members"]["丙"]]


def test_an_item_by_item_report_gets_its_score_computed_and_its_documents_printed(system):
    from io import BytesIO

    from pypdf import PdfReader

    answers = {item: points for item, points in [
        ("1.1", 4), ("1.2", 3), ("1.3", 4), ("1.4", 4), ("1.5", 3), ("1.6", 2), ("2.1", 5), ("2.2", "n/a"),
        ("3.1", 3), ("3.2", 4), ("3.3", 2), ("3.4", 3), ("4.1", 6), ("4.2", 3), ("4.3", 1), ("5.1", 7),
        ("5.2", 5), ("6.1", 4), ("6.2", 6), ("7.1", 8), ("7.2", 3), ("7.3", 3), ("7.4", 2), ("8.1", 6),
    ]}
    report = report_for(new_credit_code(), self_check={"items": answers})
    httpx.post(f"{system['assessment']}/reports", json=report, timeout=10, headers=COUNTY).raise_for_status()
    status = eventually_get(f"{system['assessment']}/reports/{report['submission_id']}", lambda r: r.json()["status"] != "accepted").json()
    result = status["result"]
    assert (result["score"], result["score_source"], result["management_grade"], result["category"]) == (93.8, "computed", "A", "乙")
    assert [lost["item"] for lost in result["lost_points"]] == ["3.3", "4.3", "5.2"]
    assert {flag["code"] for flag in result["flags"]} >= {"submission_late"}, "a 2023 report received today is late"

    document = httpx.get(f"{system['assessment']}/reports/{report['submission_id']}/document", timeout=30, headers=COUNTY)
    assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(document.content)).pages)
    assert report["enterprise"]["credit_code"] in text and "乙" in text and "93.8" in text
    notice = httpx.get(f"{system['assessment']}/reports/{report['submission_id']}/notice", timeout=30, headers=COUNTY)
    assert "公示" in "".join(page.extract_text() for page in PdfReader(BytesIO(notice.content)).pages)


def test_each_user_sees_exactly_their_own_jurisdiction(system):
    """乡宁县 141029 staff, 洪洞县 141024 staff, 临汾市 141000 staff and an employer, on one archive."""
    xiangning, hongtong = new_credit_code("141029"), new_credit_code("141024")
    own_report = report_for(xiangning, "141029")
    submitted = httpx.post(f"{system['assessment']}/reports", json=own_report, timeout=10, headers=auth("employer", xiangning))
    assert submitted.status_code == 202, submitted.text  # the employer submits its own report
    on_behalf = report_for(hongtong, "141024")
    httpx.post(f"{system['assessment']}/reports", json=on_behalf, timeout=10, headers=auth("county", "141024")).raise_for_status()
    for code in (xiangning, hongtong):
        eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.status_code == 200, headers=CITY)

    def sees(headers: dict[str, str], code: str) -> int:
        return httpx.get(f"{system['registry']}/enterprises/{code}", headers=headers, timeout=5).status_code

    def listed(headers: dict[str, str], region: str | None = None) -> set[str]:
        params = {"region_code": region, "limit": 1000} if region else {"limit": 1000}
        response = httpx.get(f"{system['registry']}/enterprises", params=params, headers=headers, timeout=5)
        assert response.status_code == 200, response.text
        return {item["credit_code"] for item in response.json()["items"]}

    county_141029, county_141024, employer = COUNTY, auth("county", "141024"), auth("employer", xiangning)
    # 乡宁县 sees its employer, not 洪洞县's — which answers exactly like one that does not exist
    assert (sees(county_141029, xiangning), sees(county_141029, hongtong)) == (200, 404)
    assert xiangning in listed(county_141029) and hongtong not in listed(county_141029)
    assert httpx.get(f"{system['registry']}/enterprises", params={"region_code": "141024"}, headers=county_141029).status_code == 403
    # 洪洞县 the other way round, for the archive, the report and the pool
    assert (sees(county_141024, xiangning), sees(county_141024, hongtong)) == (404, 200)
    report_url = f"{system['assessment']}/reports/{own_report['submission_id']}"
    assert httpx.get(report_url, headers=county_141024).status_code == 404
    assert httpx.get(f"{system['sampling']}/pools/141029", headers=county_141024).status_code == 404
    # 临汾市 sees both counties
    assert (sees(CITY, xiangning), sees(CITY, hongtong)) == (200, 200)
    assert {xiangning, hongtong} <= listed(CITY)
    assert httpx.get(report_url, headers=CITY).status_code == 200
    city_pool = eventually_get(f"{system['sampling']}/pools/141000",
                     lambda r: {xiangning, hongtong} <= {m["credit_code"] for ms in r.json()["members"].values() for m in ms}, headers=CITY)
    assert city_pool.status_code == 200
    # the employer sees itself and nobody else
    assert (sees(employer, xiangning), sees(employer, hongtong), sees(employer, EXAMPLE_REPORT["enterprise"]["credit_code"])) == (200, 404, 404)
    assert listed(employer) == {xiangning}
    assert httpx.get(report_url, headers=employer).status_code == 200
    assert httpx.get(f"{system['assessment']}/reports/{on_behalf['submission_id']}", headers=employer).status_code == 404
    refused = httpx.post(f"{system['assessment']}/reports", json=report_for(hongtong, "141024"), timeout=10, headers=employer)
    assert refused.status_code == 403 and refused.json()["code"] == "errors.submission.other_employer", refused.json()
    assert httpx.get(f"{system['sampling']}/pools/141029", headers=employer).status_code == 403
    # and nobody without a token, while the operational endpoints stay open
    for name in ("assessment", "registry", "sampling", "penalty"):
        url = system[name]
        assert httpx.get(f"{url}/openapi.json").status_code == 200 and httpx.get(f"{url}/metrics").status_code == 200
    assert sees({}, xiangning) == 401
    assert httpx.get(f"{system['penalty']}/rules/no-penalty", params={"region_code": "141029"}).status_code == 401
