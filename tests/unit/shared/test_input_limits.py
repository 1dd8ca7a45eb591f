"""Class 5/8: what the door accepts is what the pipeline can process. Every request model and route
parameter of the five services declares its limits: the value at a limit passes validation, one past
it is a 422 naming the field; NaN, integers past 64 bits and dates at the ends of the calendar are
refused at the door. The apps are built by their real bootstrap, the TestClient not entered (no
lifespan): a refused request needs neither the database nor Kafka.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.assessment.bootstrap import bootstrap as assessment_bootstrap
from services.notification.bootstrap import bootstrap as notification_bootstrap
from services.penalty.bootstrap import bootstrap as penalty_bootstrap
from services.registry.bootstrap import bootstrap as registry_bootstrap
from services.sampling.bootstrap import bootstrap as sampling_bootstrap
from shared.contracts import Report
from shared.limits import ROUTE_KEY
from shared.settings import settings_for
from tests.examples import EXAMPLE_REPORT
from tests.support import auth

EMPLOYER = EXAMPLE_REPORT["enterprise"]["credit_code"]


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    built = {}
    for name, bootstrap in (("assessment", assessment_bootstrap), ("registry", registry_bootstrap),
                            ("sampling", sampling_bootstrap), ("penalty", penalty_bootstrap), ("notification", notification_bootstrap)):
        settings = settings_for(name, data_dir=tmp_path_factory.mktemp(name))
        built[name] = TestClient(bootstrap(settings, create_topics=False), headers=auth("province"))
    yield built


def changed(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body


def post_json(client: TestClient, url: str, body: Any, method: str = "POST") -> Any:
    # json.dumps writes NaN / Infinity as Python's json reads them (what a hostile client sends)
    return client.request(method, url, content=json.dumps(body, ensure_ascii=False), headers={"content-type": "application/json"})


def refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


# ---------------------------------------------------------------------------- the report contract (附件4)

REPORT_LIMITS = [
    # (path, at the limit, one past it, the field named)
    (("enterprise", "employees"), 1_000_000, 1_000_001, "enterprise.employees"),
    (("hazards", 0, "exposed"), 0, 2**64, "hazards[0].exposed"),
    (("enterprise", "name"), "名" * 200, "名" * 201, "enterprise.name"),
    (("signed_by",), "张" * 200, "张" * 201, "signed_by"),
    (("hazards", 0, "test_report_no"), "N" * 100, "N" * 101, "hazards[0].test_report_no"),
    (("enterprise", "industry_codes"), ["C3011"] * 20, ["C3011"] * 21, "enterprise.industry_codes"),
    (("assessed_on",), "1949-10-01", "1949-09-30", "assessed_on"),
    (("enterprise", "production_started_on"), "1949-10-01", "0001-01-01", "enterprise.production_started_on"),
    (("publicity", "end"), "2100-12-31", "9999-12-31", "publicity.end"),
    (("hazards", 0, "tested_on"), "2023-05-10", "9999-12-31", "hazards[0].tested_on"),
    (("self_check", "score"), 100, float("nan"), "self_check.score"),
    (("hazards", 0, "free_silica_percent"), 100, float("inf"), "hazards[0].free_silica_percent"),
]


@pytest.mark.parametrize(("path", "at_limit", "past", "field"), REPORT_LIMITS, ids=[c[3] for c in REPORT_LIMITS])
def test_the_report_accepts_a_value_at_its_limit_and_refuses_one_past_it(
    clients: dict[str, TestClient], path: tuple[Any, ...], at_limit: Any, past: Any, field: str
) -> None:
    Report.model_validate(changed(EXAMPLE_REPORT, path, at_limit))  # the contract takes it
    refused(post_json(clients["assessment"], "/reports", changed(EXAMPLE_REPORT, path, past)), field)


def test_hazards_and_checklist_items_are_bounded_lists() -> None:
    hazard = EXAMPLE_REPORT["hazards"][0]
    Report.model_validate(changed(EXAMPLE_REPORT, ("hazards",), [hazard] * 200))
    with pytest.raises(ValidationError, match="hazards"):
        Report.model_validate(changed(EXAMPLE_REPORT, ("hazards",), [hazard] * 201))
    with pytest.raises(ValidationError, match="items"):
        Report.model_validate(changed(EXAMPLE_REPORT, ("self_check", "items"), {f"{i}.1": 1 for i in range(101)}))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 101])
def test_checklist_points_must_be_finite_and_in_range_naming_the_item(clients: dict[str, TestClient], value: float) -> None:
    body = changed(EXAMPLE_REPORT, ("self_check", "items"), {"2.1": value})
    refused(post_json(clients["assessment"], "/reports", body), "self_check.items.2.1")


def test_the_report_limits_show_in_the_openapi(clients: dict[str, TestClient]) -> None:
    schemas = clients["assessment"].app.openapi()["components"]["schemas"]
    enterprise = schemas["Enterprise"]["properties"]
    assert enterprise["employees"]["maximum"] == 1_000_000 and enterprise["industry_codes"]["maxItems"] == 20
    assert schemas["Report"]["properties"]["hazards"]["maxItems"] == 200
    assert schemas["Report"]["properties"]["assessed_on"]["formatMaximum"] == "2100-12-31"


def test_a_path_parameter_past_its_length_is_refused(clients: dict[str, TestClient]) -> None:
    refused(clients["assessment"].get("/reports/" + "x" * 65), "submission_id")


# ---------------------------------------------------------------------------- registry

def test_registry_request_models_and_parameters_are_bounded(clients: dict[str, TestClient]) -> None:
    registry = clients["registry"]
    industry = {"name": "某公司", "region_code": "141029", "industry_codes": ["C3011"], "employees": 1_000_001, "reason": "无报告"}
    refused(post_json(registry, f"/enterprises/{EMPLOYER}/industry-classification", industry), "employees")
    refused(post_json(registry, f"/enterprises/{EMPLOYER}/industry-classification", {**industry, "employees": 2**70}), "employees")
    refused(post_json(registry, f"/enterprises/{EMPLOYER}/industry-classification",
                      {**industry, "employees": 5, "industry_codes": ["C3011"] * 21}), "industry_codes")
    refused(post_json(registry, f"/enterprises/{EMPLOYER}/dispute", {"reason": "x" * 2001}), "reason")
    exemption = {"valid_from": "2026-01-01", "valid_until": "9999-12-31", "reason": "信用 A 级", "basis": "评价"}
    refused(post_json(registry, f"/enterprises/{EMPLOYER}/exemptions", exemption), "valid_until")
    refused(post_json(registry, f"/enterprises/{EMPLOYER}/exemptions", {**exemption, "valid_until": "2026-12-31",
                                                                          "valid_from": "0001-01-01"}), "valid_from")
    refused(registry.get("/enterprises", params={"offset": 1_000_001}), "offset")
    refused(registry.get("/enterprises", params={"limit": 1001}), "limit")
    refused(registry.get("/reports/small-employers", params={"limit": 1001}), "limit")
    refused(registry.get("/reports/small-employers", params={"offset": 10**20}), "offset")
    refused(registry.get("/reports/changes", params={"from": "0001-01-01"}), "from")
    refused(registry.get("/reports/changes", params={"to": "9999-12-31"}), "to")
    refused(registry.get("/audit/chain/141029", params={"from_seq": 2**64}), "from_seq")


# ---------------------------------------------------------------------------- sampling

def test_sampling_request_models_and_parameters_are_bounded(clients: dict[str, TestClient]) -> None:
    sampling = clients["sampling"]
    for period in ("0001", "9999", "9999Q4", "1948"):
        refused(post_json(sampling, "/plans", {"region_code": "141024", "period": period}), "period")
        refused(sampling.get("/plans", params={"period": period}), "period")
    refused(post_json(sampling, "/plans", {"region_code": "141024", "period": "2026", "inspectors_per_task": 21}), "inspectors_per_task")
    refused(post_json(sampling, "/plans", {"region_code": "141024", "period": "2026", "minimums": {"甲": 2**64}}), "minimums.甲")
    refused(post_json(sampling, "/plans", {"region_code": "141024", "period": "2026", "ratios": {"甲": float("nan")}}), "ratios")
    inspector = {"id": "i1", "name": "检查员", "conflicts": []}
    refused(post_json(sampling, "/inspectors/141024", {"inspectors": [{**inspector, "name": "名" * 201}]}, "PUT"), "inspectors[0].name")
    many = [{**inspector, "id": f"i{n}"} for n in range(10_001)]
    refused(post_json(sampling, "/inspectors/141024", {"inspectors": many}, "PUT"), "inspectors")
    refused(post_json(sampling, "/tasks/t1/result", {"outcome": "compliant", "inspected_on": "0001-01-01"}), "inspected_on")
    refused(sampling.get("/statistics/141024", params={"period": "2026Q9"}), "period")


# ---------------------------------------------------------------------------- penalty

def test_penalty_request_models_and_parameters_are_bounded(clients: dict[str, TestClient]) -> None:
    penalty = clients["penalty"]
    violation = {"credit_code": EMPLOYER, "item_code": "70-4", "found_on": "2024-03-01", "harm": "minor"}
    refused(post_json(penalty, "/violations", {**violation, "found_on": "0001-01-01"}), "found_on")
    refused(post_json(penalty, "/violations", {**violation, "rectification_deadline": "9999-12-31"}), "rectification_deadline")
    refused(post_json(penalty, "/cases/c1/fine", {"fine_yuan": 2**64}), "fine_yuan")
    refused(post_json(penalty, "/cases/c1/fine", {"fine_yuan": 100_000_001}), "fine_yuan")
    refused(post_json(penalty, "/cases/c1/education", {"on": "2024-03-02", "content": "x" * 2001}), "content")
    refused(post_json(penalty, "/cases/c1/rectification-order", {"ordered_on": "9999-12-31"}), "ordered_on")
    finding = {"org_name": "某机构", "region_code": "141029", "misstated": ["hazards"], "description": "虚假",
               "severity": "serious", "found_on": "0001-01-01"}
    refused(post_json(penalty, f"/orgs/{EMPLOYER}/findings", finding), "found_on")
    refused(post_json(penalty, f"/orgs/{EMPLOYER}/disqualification",
                      {"decision_no": "1号", "decided_on": "2024-01-01", "finding_ids": ["f"] * 101}), "finding_ids")
    refused(penalty.post("/sweeps/escalation", params={"today": "0001-01-01"}), "today")
    refused(penalty.get("/reviews/cases", params={"from": "0001-01-01"}), "from")
    refused(penalty.get("/rules/no-penalty", params={"region_code": "141029", "on": "9999-12-31"}), "on")


# ---------------------------------------------------------------------------- issue 13: screenings, rectification, portrait, notification

def test_the_screening_rectification_portrait_and_notification_routes_are_bounded(clients: dict[str, TestClient]) -> None:
    penalty, registry, notification = clients["penalty"], clients["registry"], clients["notification"]
    refused(penalty.get("/screenings", params={"limit": 1001}), "limit")
    refused(penalty.get("/screenings", params={"credit_code": "9" * 65}), "credit_code")
    refused(penalty.get("/screenings/not-a-uuid"), "screening_id")
    item = "0" * 8 + "-0000-0000-0000-" + "0" * 12
    refused(registry.get("/rectifications", params={"offset": 1_000_001}), "offset")
    refused(registry.get(f"/rectifications/{item}0"), "item_id")
    refused(registry.get(f"/rectifications/{item}/attachments/10001"), "n")
    refused(post_json(registry, f"/rectifications/{item}/review", {"decision": "return", "reason": "x" * 2001}), "reason")
    refused(registry.post(f"/rectifications/{item}/submission", data={"text": "改" * 2001}), "text")
    pdf = ("files", ("a.pdf", b"%PDF-1.4", "application/pdf"))
    refused(registry.post(f"/rectifications/{item}/submission", data={"text": "改"}, files=[pdf] * 6), "files")
    refused(registry.get(f"/enterprises/{EMPLOYER}/portrait/versions/1000001"), "version")
    refused(registry.get("/figures", params={"from": "0001-01-01"}), "from")
    refused(notification.get("/inbox", params={"limit": 1001}), "limit")
    refused(notification.post("/inbox/" + "x" * 37 + "/read"), "notification_id")
    refused(post_json(notification, "/contacts/regions/141029", {"email": "a" * 250 + "@x.cn"}, "PUT"), "email")
    refused(post_json(notification, "/contacts/regions/141029", {"phone": "1" * 21}, "PUT"), "phone")
    refused(notification.get("/contacts/regions/1410290"), "region_code")


def test_every_request_model_string_and_list_of_every_service_is_bounded(clients: dict[str, TestClient]) -> None:
    """The OpenAPI of every service: every string and array in a request body (JSON or a multipart form) has a
    maximum length; an uploaded file's size is bounded by its route's own declared body cap."""
    unbounded: list[str] = []
    capped = False  # the operation being walked declares its own body cap (shared.limits.route_body_limit)

    def walk(node: Any, where: str, schemas: dict[str, Any], seen: set[str]) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                if name not in seen:
                    walk(schemas[name], name, schemas, seen | {name})
                return
            kind = node.get("type")
            is_file = "contentMediaType" in node or node.get("format") == "binary"
            if kind == "string" and "maxLength" not in node and "enum" not in node and "const" not in node \
                    and node.get("format") not in ("date", "date-time", "uuid") and not (is_file and capped):
                unbounded.append(where)
            if kind == "array" and "maxItems" not in node:
                unbounded.append(where)
            if kind == "object" and isinstance(node.get("additionalProperties"), dict) and "maxProperties" not in node:
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}", schemas, seen)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]", schemas, seen)

    for name, client in clients.items():
        schema = client.app.openapi()
        schemas = schema["components"]["schemas"]
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                capped = ROUTE_KEY in operation
                for media in ("application/json", "multipart/form-data"):
                    body = operation.get("requestBody", {}).get("content", {}).get(media, {}).get("schema")
                    if body is not None:
                        walk(body, f"{name} {method.upper()} {path}", schemas, set())
    assert unbounded == []


def test_dates_the_pipeline_computes_with_stay_far_from_the_end_of_the_calendar() -> None:
    from shared.contracts import LATEST_DATE
    from shared.dates import add_months

    assert add_months(LATEST_DATE, 12 * 10) < date.max  # re-assessment, exemptions, deadlines: years of room


def test_every_parameter_of_every_service_is_bounded(clients: dict[str, TestClient]) -> None:
    """The OpenAPI of every service: every path and query parameter has its limit — a number its
    minimum and maximum, a text its maximum length (or a set of values, or a date format)."""
    unbounded: list[str] = []

    def bounded(schema: dict[str, Any]) -> bool:
        options = schema.get("anyOf") or [schema]
        for option in options:
            kind = option.get("type")
            if kind == "null" or "enum" in option or "const" in option or kind == "boolean":
                continue
            if kind in ("integer", "number") and not ("maximum" in option and "minimum" in option):
                return False
            if kind == "string" and "maxLength" not in option and option.get("format") not in ("date", "uuid"):
                return False
        return True

    for name, client in clients.items():
        for path, operations in client.app.openapi()["paths"].items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", []):
                    if not bounded(parameter.get("schema", {})):
                        unbounded.append(f"{name} {method.upper()} {path} {parameter['in']} {parameter['name']}")
    assert unbounded == []


def test_the_nul_character_is_refused_at_the_door_in_the_url_and_in_the_body(clients: dict[str, TestClient]) -> None:
    """PostgreSQL takes no NUL in text: a %00 in a query (found by schemathesis: GET /tasks?plan_id=T%00…
    answered 500 on PostgreSQL) or a \\u0000 in a body field is a 422 naming where, on every service."""
    for name, url in [("sampling", "/tasks?plan_id=T%00x"), ("registry", "/enterprises?region_code=14%0029"),
                      ("penalty", "/cases/x%00y"), ("assessment", "/reports/a%00")]:
        response = clients[name].get(url, headers=auth("province"))
        assert response.status_code == 422, (name, url, response.text)
        [error] = response.json()["errors"]
        assert error["code"] == "errors.request.nul_in_url" and "NUL" in error["message"] and error["field"] in ("(path)", "(query)")
    report = json.loads(json.dumps(EXAMPLE_REPORT))
    report["enterprise"]["name"] = "乡宁县\x00示例"
    refused(post_json(clients["assessment"], "/reports", report), "enterprise.name")


@pytest.mark.parametrize(("service", "method", "path", "allowed"), [
    ("assessment", "delete", "/reports", "GET, HEAD, POST"),
    ("assessment", "put", "/reports/00000000-0000-0000-0000-000000000000", "GET, HEAD"),
    ("registry", "post", "/enterprises/91141029MA0GRT8U3L", "GET, HEAD"),
])
def test_a_method_a_path_does_not_take_is_405_naming_the_ones_it_does(
    clients: dict[str, TestClient], service: str, method: str, path: str, allowed: str
) -> None:
    response = getattr(clients[service], method)(path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["code"] == "errors.http.method_not_allowed"
    assert method.upper() in response.json()["detail"] and "Allow" in response.json()["detail"]
