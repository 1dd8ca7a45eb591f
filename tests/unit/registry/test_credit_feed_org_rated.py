"""The credit feed publishes organisations' star ratings (issue 17): an OrgRated from penalty becomes one CloudEvent
``cn.gov.ohs.org.rated`` (schema ``urn:ohs:credit:org-rated:1``) on ohs.credit.events, keyed by the organisation's
credit code, once however often it is delivered; its data names the stars, the rule version and the trace's lines."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import Session

from services.registry.service_layer import credit_feed
from shared.contracts import CreditCloudEvent, OrgRated, RuleSetRef, TraceEntry
from shared.runtime import Runtime
from tests.unit.registry.test_credit_feed import CLOUD_EVENT_KEYS, CODE, OCCURRED, credit_rows, deliver, runtime, uow_of  # noqa: F401 - runtime: the fixture


def org_rated() -> OrgRated:
    return OrgRated(
        producer="penalty", credit_code=CODE, occurred_at=OCCURRED, org_kind="technical_service", org_name="临汾示例职业卫生技术服务有限公司",
        stars=4, previous_stars=5, rated_on=date(2026, 11, 20),
        rule_set=RuleSetRef(jurisdiction="CN", version="2026.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="星级评定 CN 2026.1", code="penalty.rating.band", params={"points": 90.0, "stars": 4}, detail="得分 90.0，评为 4 星")],
    )


async def test_a_rating_change_becomes_one_cloud_event(runtime: Runtime) -> None:
    event = org_rated()
    await deliver(runtime, event, event)

    [row] = credit_rows(runtime)
    raw = json.loads(row.payload)
    assert row.key == CODE and set(raw) == CLOUD_EVENT_KEYS
    assert (raw["source"], raw["type"], raw["dataschema"], raw["id"]) == (
        "/ohs/penalty", "cn.gov.ohs.org.rated", "urn:ohs:credit:org-rated:1", str(event.event_id))
    assert raw["data"] == {"org_name": "临汾示例职业卫生技术服务有限公司", "org_kind": "technical_service", "stars": 4, "previous_stars": 5,
                           "rated_on": "2026-11-20", "rule_version": "CN 2026.1", "provisional": True, "reasons": ["得分 90.0，评为 4 星"]}
    CreditCloudEvent.model_validate_json(row.payload)
    with Session(runtime.engine) as session:  # past the inbox too: no second row
        credit_feed.org_rated(uow_of(session), event)
        session.commit()
    assert len(credit_rows(runtime)) == 1


def test_the_contract_refuses_rated_data_under_another_schema() -> None:
    good = credit_feed.from_org_rated(org_rated()).model_dump(mode="json")
    bad = {**good, "dataschema": "urn:ohs:credit:org-disqualified:1"}
    with pytest.raises(ValueError, match="dataschema of cn.gov.ohs.org.rated is urn:ohs:credit:org-rated:1"):
        CreditCloudEvent.model_validate(bad)
