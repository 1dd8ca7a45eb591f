"""A technical service organisation's false report, as the agencies live it: four service processes,
a real broker, HTTP only.

A county finds that an organisation's assessment report understated exposure and refers the
serious finding upward; the province disqualifies the organisation. From then on the assessment
service refuses reports that organisation made, naming the decision, and the credit feed
publishes the disqualification for credit-regulation systems."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest

from shared import topics
from shared.dates import china_today
from tests.support import auth, eventually_sync, new_credit_code, read_topic, report_for

pytestmark = pytest.mark.e2e

COUNTY, PROVINCE = auth("county", name="乡宁县 张三"), auth("province", name="山西省 王五")


def test_a_disqualified_organisation_can_no_longer_submit_and_the_credit_feed_says_so(system, kafka_bootstrap: str) -> None:
    org, employer = new_credit_code("141000"), new_credit_code()  # the organisation is registered in 临汾市
    assessor = {"type": "organisation", "org_id": org, "org_name": "临汾示例职业卫生技术服务有限公司"}
    first = httpx.post(f"{system['assessment']}/reports", json=report_for(employer, assessor=assessor), headers=auth("employer", employer), timeout=10)
    assert first.status_code == 202, first.text  # before the finding: accepted

    found_on = (china_today() - timedelta(days=2)).isoformat()
    finding = httpx.post(f"{system['penalty']}/orgs/{org}/findings", headers=COUNTY, timeout=10, json={
        "org_name": "临汾示例职业卫生技术服务有限公司", "region_code": "141029", "employer_credit_code": employer,
        "submission_id": first.json()["submission_id"], "misstated": ["exposure"], "description": "接触水平检测结果与原始记录不符",
        "severity": "serious", "found_on": found_on,
    })
    assert finding.status_code == 201, finding.text
    assert finding.json()["status"] == "referred"

    decided = httpx.post(f"{system['penalty']}/orgs/{org}/disqualification", headers=PROVINCE, timeout=10, json={
        "decision_no": f"晋卫监罚〔2026〕{org[-6:]}号", "decided_on": china_today().isoformat(), "finding_ids": [finding.json()["id"]],
    })
    assert decided.status_code == 200, decided.text

    def another_report() -> httpx.Response:  # the assessment service learns of the decision through ohs.orgs.disqualified
        other = new_credit_code()
        response = httpx.post(f"{system['assessment']}/reports", json=report_for(other, assessor=assessor), headers=auth("employer", other), timeout=10)
        assert response.status_code in (202, 422), response.text
        return response

    refusal = eventually_sync(another_report, 20, "the assessment service refusing the disqualified organisation",
                              ready=lambda r: r.status_code == 422)
    error = refusal.json()["errors"][0]
    assert error["field"] == "assessor.org_id" and f"晋卫监罚〔2026〕{org[-6:]}号" in error["message"]

    def published(records: list) -> bool:
        return any(json.loads(r.value).get("subject") == org for r in records)

    records = asyncio.run(read_topic(kafka_bootstrap, topics.CREDIT_EVENTS, published, timeout=30))
    [cloud_event] = [json.loads(r.value) for r in records if json.loads(r.value).get("subject") == org]
    assert cloud_event["type"] == "cn.gov.ohs.org.disqualified"
    assert cloud_event["data"]["decision_no"] == f"晋卫监罚〔2026〕{org[-6:]}号"
