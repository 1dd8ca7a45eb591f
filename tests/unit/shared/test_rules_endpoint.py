"""``GET /rules/in-force`` (shared/rules_endpoint.py): which versioned rule data a service decides with, for a
county on a day — on a small app with rule data of its own, then on the five services built by their real
bootstrap (TestClient not entered: no Kafka), where every kind of versioned rule file they package is declared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.assessment.bootstrap import bootstrap as assessment_bootstrap
from services.notification.bootstrap import bootstrap as notification_bootstrap
from services.penalty.bootstrap import bootstrap as penalty_bootstrap
from services.registry.bootstrap import bootstrap as registry_bootstrap
from services.sampling.bootstrap import bootstrap as sampling_bootstrap
from shared import errors
from shared.dates import china_today
from shared.localize import LocalizedAnswers
from shared.rules_endpoint import REPO_ROOT, DeclaredRules, add_rules_in_force
from shared.rules_in_force import FromRuleFile, in_force
from tests.support import TEST_AUTH_SECRET, app_without_broker, auth

ROLES = ("province", "city", "county", "auditor", "employer")


class Limits(FromRuleFile):
    """Rule data of the small app: one value per jurisdiction and version."""

    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool
    source: str
    limit: int


def limits(jurisdiction: str, version: str, effective_from: str, origin: str | None, provisional: bool = False) -> Limits:
    item = Limits(jurisdiction=jurisdiction, version=version, effective_from=date.fromisoformat(effective_from),
                  provisional=provisional, source=f"文件 {jurisdiction} {version}", limit=1)
    item._origin = origin
    return item


@pytest.fixture(scope="module")
def small() -> TestClient:
    national = limits("CN", "1", "2020-01-01", str(REPO_ROOT / "rules" / "limits-cn.json"), provisional=True)
    county = limits("141029", "2", "2025-01-01", "/etc/ohs/rules/limits/141029.json")
    zhejiang = limits("330000", "1", "2020-01-01", None)
    app = FastAPI()
    app.state.runtime = SimpleNamespace(settings=SimpleNamespace(auth_secret=TEST_AUTH_SECRET))
    errors.install(app)
    app.add_middleware(LocalizedAnswers)
    add_rules_in_force(app, [
        DeclaredRules("limits", "限值", lambda region, on: in_force([national, county], region, on, "limits for", "limits")),
        DeclaredRules("zhejiang_only", "浙江规则", lambda region, on: in_force([zhejiang], region, on, "rules for", "rules")),
        DeclaredRules("none_answered", "无", lambda region, on: None),
    ])
    return TestClient(app)


def test_the_rule_data_in_force_for_a_county_on_a_day_or_why_there_is_none(small: TestClient) -> None:
    before = small.get("/rules/in-force", params={"region_code": "141029", "on": "2024-12-31"}, headers=auth("employer"))
    assert before.status_code == 200, before.text
    assert (before.json()["region_code"], before.json()["on"]) == ("141029", "2024-12-31")
    found, zhejiang, none = before.json()["rule_sets"]
    assert found == {"name": "limits", "title": "限值", "missing": False, "jurisdiction": "CN", "version": "1", "effective_from": "2020-01-01",
                     "provisional": True, "source": "文件 CN 1", "file": "rules/limits-cn.json"}  # packaged: relative to the repository
    assert zhejiang == {"name": "zhejiang_only", "title": "浙江规则", "missing": True, "code": "errors.rules.none_in_force",
                        "params": {"region_code": "141029", "on": "2024-12-31"}, "reason": "2024年12月31日没有适用于行政区划 141029 的此类规则数据"}
    assert none["missing"] is True and none["name"] == "none_answered"

    # the county's own version from its effective date on: the most specific jurisdiction wins; an agency's file as configured
    after = small.get("/rules/in-force", params={"region_code": "141029", "on": "2025-01-01"}, headers=auth("county")).json()["rule_sets"][0]
    assert (after["jurisdiction"], after["version"], after["provisional"], after["file"]) == ("141029", "2", False, "/etc/ohs/rules/limits/141029.json")
    # another county of the province keeps the national one; a Zhejiang county has its province's (no file known)
    assert small.get("/rules/in-force", params={"region_code": "141024", "on": "2025-06-01"}, headers=auth("city")).json()["rule_sets"][0]["version"] == "1"
    east = small.get("/rules/in-force", params={"region_code": "330106", "on": "2025-06-01"}, headers=auth("province")).json()["rule_sets"][1]
    assert (east["missing"], east["jurisdiction"], east["file"]) == (False, "330000", None)

    # the reason in English for an English reader; the default day is today in China
    english = small.get("/rules/in-force", params={"region_code": "141029"}, headers={**auth("auditor"), "Accept-Language": "en"}).json()
    assert english["on"] == china_today().isoformat()
    assert english["rule_sets"][1]["reason"] == f"no rule data of this kind is in force for region 141029 on {china_today().isoformat()}"


@pytest.mark.parametrize(("params", "field", "code"), [
    ({"region_code": "141000"}, "region_code", "errors.region_code.not_county"),
    ({"region_code": "140000"}, "region_code", "errors.region_code.not_county"),
    ({"region_code": "14102X"}, "region_code", "errors.region_code.format"),
    ({"region_code": "991029"}, "region_code", "errors.region_code.province_prefix"),
    ({"region_code": "1" * 13}, "region_code", "errors.field.string_too_long"),
    ({}, "region_code", "errors.field.missing"),
    ({"region_code": "141029", "on": "2026-13-01"}, "on", "errors.field.date_parsing"),
    ({"region_code": "141029", "on": "1900-01-01"}, "on", "errors.field.date_from"),
])
def test_a_bad_county_or_day_is_422_naming_the_field(small: TestClient, params: dict[str, str], field: str, code: str) -> None:
    answer = small.get("/rules/in-force", params=params, headers=auth("county"))
    assert answer.status_code == 422, answer.text
    assert [(error["field"], error["code"]) for error in answer.json()["errors"]] == [(field, code)]


def test_no_token_or_a_bad_one_is_401_and_every_role_may_ask(small: TestClient) -> None:
    assert small.get("/rules/in-force", params={"region_code": "141029"}).status_code == 401
    assert small.get("/rules/in-force", params={"region_code": "141029"}, headers={"Authorization": "Bearer ohs1.x.y"}).status_code == 401
    for role in ROLES:
        assert small.get("/rules/in-force", params={"region_code": "141029"}, headers=auth(role)).status_code == 200, role


def test_each_kind_of_rule_data_is_declared_once() -> None:
    declared = DeclaredRules("x", "某规则", lambda region, on: None)
    with pytest.raises(ValueError, match="once"):
        add_rules_in_force(FastAPI(), [declared, declared])


# --------------------------------------------------------------------------- the services


BOOTSTRAPS = {"assessment": assessment_bootstrap, "registry": registry_bootstrap, "sampling": sampling_bootstrap,
              "penalty": penalty_bootstrap, "notification": notification_bootstrap}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    apps = {name: app_without_broker(bootstrap, name, tmp_path_factory.mktemp(f"rules-{name}")) for name, bootstrap in BOOTSTRAPS.items()}
    yield {name: TestClient(app) for name, app in apps.items()}
    for app in apps.values():
        app.state.runtime.engine.dispose()


def versioned_files(service: str) -> dict[str, set[str]]:
    """kind → the service's packaged rule files of that kind that are versioned by jurisdiction (the assessment's
    classification rule sets have no ``kind``)."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO_ROOT / "services" / service / "rules").rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if {"jurisdiction", "version", "effective_from"} <= set(data):
            found.setdefault(data.get("kind", "classification"), set()).add(path.relative_to(REPO_ROOT).as_posix())
    return found


@pytest.mark.parametrize("service", BOOTSTRAPS)
def test_every_versioned_rule_file_a_service_packages_is_declared_and_in_force_for_a_county_today(
        services: dict[str, TestClient], service: str) -> None:
    answer = services[service].get("/rules/in-force", params={"region_code": "141029"}, headers=auth("employer"))
    assert answer.status_code == 200, answer.text
    rule_sets = {r["name"]: r for r in answer.json()["rule_sets"]}
    packaged = versioned_files(service)
    assert set(rule_sets) == set(packaged), "every kind of versioned rule data the service loads is declared, and only those"
    for name, rule_set in rule_sets.items():
        assert rule_set["missing"] is False and rule_set["jurisdiction"] == "CN", rule_set
        assert rule_set["title"] and rule_set["version"] and rule_set["source"] and isinstance(rule_set["provisional"], bool)
        assert date.fromisoformat(rule_set["effective_from"]) <= china_today()
        assert rule_set["file"] is None or rule_set["file"] in packaged[name], rule_set  # known where the model remembers it


def test_penalty_answers_the_list_an_extension_composes_and_nothing_before_its_rule_data(services: dict[str, TestClient]) -> None:
    penalty = services["penalty"]
    today = penalty.get("/rules/in-force", params={"region_code": "141029"}, headers=auth("county")).json()["rule_sets"]
    assert [r["name"] for r in today] == ["no_penalty_list", "discretion_baseline", "shortcoming_map", "org_rating"]
    assert today[2]["file"] == "services/penalty/rules/shortcomings-2021.json"
    zhejiang = penalty.get("/rules/in-force", params={"region_code": "330106"}, headers=auth("county")).json()["rule_sets"][0]
    assert (zhejiang["jurisdiction"], zhejiang["version"], zhejiang["file"]) == ("330000", "2021.1+2022.1", None)  # merged: no one file
    earlier = (date(2021, 7, 15) - timedelta(days=1)).isoformat()
    before = penalty.get("/rules/in-force", params={"region_code": "141029", "on": earlier}, headers=auth("county")).json()["rule_sets"]
    assert all(r["missing"] and r["reason"] == "2021年7月14日没有适用于行政区划 141029 的此类规则数据" for r in before)
    refused = penalty.get("/rules/in-force", params={"region_code": "141000"}, headers=auth("county"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "region_code"
    assert penalty.get("/rules/in-force", params={"region_code": "141029"}).status_code == 401
