"""Class 9: the public ``POST /verify`` cannot freeze the service. The publication it accepts is
bounded (pool, roster, string lengths), recomputing it is near-linear (inspectors kept in buckets by
load, the same result as the rule as written), its work has a ceiling, and it runs off the event loop."""

from __future__ import annotations

import copy
import json
import random
import time

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.sampling.bootstrap import bootstrap
from services.sampling.domain.draw import (
    DrawRefused,
    Parameters,
    RosterInspector,
    assign_inspectors,
    assign_inspectors_reference,
    select_targets,
)
from services.sampling.domain.publication import TooLarge, verify
from services.sampling.entrypoints import plans as plans_http
from services.sampling.service_layer.commands import (
    MAX_ROSTER,
    PublicationIn,
    parse_publication,
)
from shared.settings import settings_for
from tests.unit.sampling.test_draw import pool_of, publication, roster


@settings(max_examples=60, deadline=None)
@given(
    targets=st.integers(0, 60), inspectors=st.integers(2, 12), per_task=st.integers(2, 4),
    conflict_rate=st.sampled_from([0.0, 0.1, 0.5, 0.9]), seed=st.text(min_size=1, max_size=8),
)
def test_the_bucketed_assignment_is_exactly_the_rule_as_written(targets: int, inspectors: int, per_task: int,
                                                                conflict_rate: float, seed: str) -> None:
    rng = random.Random(f"{targets}-{inspectors}-{per_task}-{conflict_rate}-{seed}")
    pool = pool_of(丙=targets)
    team = [RosterInspector(f"i{k:02d}", "x", frozenset(e.credit_code for e in pool if rng.random() < conflict_rate))
            for k in range(inspectors)]
    drawn = select_targets(seed, pool, Parameters(ratios={"丙": "1"}, minimums={})).targets
    try:
        expected = assign_inspectors_reference(seed, drawn, team, per_task)
    except DrawRefused as refused:
        with pytest.raises(DrawRefused) as again:
            assign_inspectors(seed, drawn, team, per_task)
        assert again.value.problems == refused.problems
        return
    assert assign_inspectors(seed, drawn, team, per_task) == expected


def test_verification_is_near_linear_in_the_roster() -> None:
    pool = pool_of(甲=200, 乙=400, 丙=400)
    params = Parameters(ratios={"甲": "1", "乙": "1", "丙": "1"}, minimums={})
    drawn = select_targets("s", pool, params).targets

    def seconds(size: int) -> float:
        team = roster(size)
        started = time.perf_counter()
        assign_inspectors("s", drawn, team, 2)
        return time.perf_counter() - started

    small, large = seconds(50), seconds(800)
    # the reference sorts the whole roster for every target (16× the roster: well over 16× the time); buckets
    # look at the least-loaded ones only
    assert large < max(small, 0.01) * 40, (small, large)


def test_the_publication_is_bounded_in_its_schema() -> None:
    doc = publication()
    PublicationIn.model_validate(doc)
    too_many = copy.deepcopy(doc)
    too_many["draw"]["roster"] = [{"id": f"i{n}", "name": "x", "conflicts": []} for n in range(MAX_ROSTER + 1)]
    with pytest.raises(ValidationError, match="draw.roster"):
        PublicationIn.model_validate(too_many)
    long_seed = copy.deepcopy(doc)
    long_seed["draw"]["seed"] = "s" * 129
    with pytest.raises(ValidationError, match="draw.seed"):
        PublicationIn.model_validate(long_seed)
    assert parse_publication(json.dumps(doc).encode()) == json.loads(json.dumps(doc)), "what is sent is what is verified"


def test_recomputing_past_the_work_ceiling_is_refused() -> None:
    doc = publication()
    assert verify(doc, max_work=10**6) == {"match": True}
    with pytest.raises(TooLarge, match="offline"):
        verify(doc, max_work=10)


@pytest.fixture
def client(tmp_path) -> TestClient:
    return TestClient(bootstrap(settings_for("sampling", data_dir=tmp_path), create_topics=False))


def test_verify_over_http_matches_and_names_what_is_wrong(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = publication()
    assert client.post("/verify", json=doc).json() == {"match": True}
    bad = copy.deepcopy(doc)
    bad["draw"]["pool"][0]["credit_code"] = "9" * 19
    response = client.post("/verify", json=bad)
    assert response.status_code == 422 and "draw.pool[0].credit_code" in [e["field"] for e in response.json()["errors"]]
    assert client.post("/verify", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
    monkeypatch.setattr(plans_http, "VERIFY_MAX_WORK", 10)
    refused = client.post("/verify", json=doc)
    assert refused.status_code == 422 and "offline" in refused.json()["errors"][0]["message"]
    assert "413" in client.app.openapi()["paths"]["/verify"]["post"]["responses"]
    assert client.app.openapi()["paths"]["/verify"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]


def test_verify_accepts_a_body_past_8_mib_up_to_its_own_cap(client: TestClient) -> None:
    big = b'{"plan": {}, "padding": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    assert client.post("/verify", content=big, headers={"content-type": "application/json"}).status_code == 422  # read, not 413
    assert client.post("/plans", content=big, headers={"content-type": "application/json"}).status_code == 413
    huge = b" " * (plans_http.VERIFY_MAX_BODY_BYTES + 1)
    assert client.post("/verify", content=huge, headers={"content-type": "application/json"}).status_code == 413
