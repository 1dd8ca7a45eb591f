"""Class 8/9 plumbing: the body-size cap (413), a race on a unique constraint (409, or once more where
the contract is idempotent), and field names free of pydantic's union-member tags."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from shared import errors
from shared.errors import once_more_after_a_race, problem_field
from shared.limits import (
    DEFAULT_MAX_BODY_BYTES,
    BodySizeLimit,
    max_body_bytes,
    route_body_limit,
    set_body_limit,
)
from shared.settings import settings_for


class Thing(BaseModel):
    name: str


def small_app(limit: int = 100) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    app.add_middleware(BodySizeLimit, default=limit)

    @app.post("/things")
    async def post_thing(thing: Thing) -> dict[str, str]:
        return {"name": thing.name}

    @app.post("/raw")
    async def post_raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/race")
    async def post_race() -> None:
        raise IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed: things.name"))

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    yield TestClient(small_app())


def test_a_body_at_the_cap_is_read_and_one_past_it_is_413_with_the_one_error_body(client: TestClient) -> None:
    at_cap = '{"name": "' + "x" * (100 - len('{"name": ""}')) + '"}'
    assert len(at_cap) == 100
    assert client.post("/things", content=at_cap, headers={"content-type": "application/json"}).status_code == 200
    over = client.post("/things", content=at_cap + " ", headers={"content-type": "application/json"})
    assert over.status_code == 413
    assert set(over.json()) == {"detail", "code", "errors"} and over.json()["code"] == "errors.request.too_large"
    assert "100 字节" in over.json()["detail"]  # in Chinese unless the request asks for English
    english = client.post("/things", content=at_cap + " ", headers={"content-type": "application/json", "Accept-Language": "en"})
    assert "100 bytes" in english.json()["detail"] and english.headers["content-language"] == "en"


def test_a_body_without_a_length_is_counted_as_it_arrives(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 50

    for path in ("/raw", "/things"):
        response = client.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413, (path, response.text)
        assert response.json()["errors"] == []


def test_a_route_may_have_its_own_cap() -> None:
    app = small_app(limit=10)
    set_body_limit(app, "/raw", 1000)
    client = TestClient(app)
    assert client.post("/raw", content=b"y" * 500).json() == {"bytes": 500}
    assert client.post("/things", content=b"y" * 500).status_code == 413


def test_a_route_with_a_path_parameter_keeps_the_cap_it_declares() -> None:
    app = small_app(limit=10)

    @app.post("/items/{item_id}/upload", openapi_extra=route_body_limit(1000))
    async def upload(item_id: str, request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    client = TestClient(app)
    assert client.post("/items/abc/upload", content=b"y" * 500).json() == {"bytes": 500}
    assert client.post("/items/abc/upload", content=b"y" * 1001).status_code == 413
    assert client.post("/items/abc/def/upload", content=b"y" * 500).status_code in (404, 413), "one segment per parameter"
    assert client.post("/things", content=b"y" * 500).status_code == 413, "the others keep the default"


def test_the_default_cap_is_8_mib_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OHS_MAX_BODY_BYTES", raising=False)
    assert max_body_bytes() == DEFAULT_MAX_BODY_BYTES == 8 * 1024 * 1024
    monkeypatch.setenv("OHS_MAX_BODY_BYTES", "1024")
    assert max_body_bytes() == 1024


def test_every_service_caps_its_bodies_and_documents_413(tmp_path) -> None:
    from services.assessment.bootstrap import bootstrap as assessment
    from services.penalty.bootstrap import bootstrap as penalty
    from services.registry.bootstrap import bootstrap as registry
    from services.sampling.bootstrap import bootstrap as sampling

    for name, bootstrap in (("assessment", assessment), ("registry", registry), ("sampling", sampling), ("penalty", penalty)):
        app = bootstrap(settings_for(name, data_dir=tmp_path / name), create_topics=False)
        client = TestClient(app)  # not entered: no lifespan, the cap answers before anything else
        huge = b"{" + b" " * DEFAULT_MAX_BODY_BYTES + b"}"
        path = {"assessment": "/reports", "registry": "/enterprises/91141029MA0GRT8U3L/dispute", "sampling": "/plans",
                "penalty": "/violations"}[name]
        assert client.post(path, content=huge, headers={"content-type": "application/json"}).status_code == 413, name
        schema = app.openapi()
        posts = [op for ops in schema["paths"].values() for method, op in ops.items() if method in ("post", "put") and "requestBody" in op]
        assert posts and all("413" in op["responses"] for op in posts), name


def test_an_insert_that_lost_a_race_is_409_naming_the_constraint(client: TestClient) -> None:
    response = client.post("/race")
    assert response.status_code == 409
    assert "things.name" in response.json()["detail"] and response.json()["errors"] == []


async def test_once_more_after_a_race_answers_what_the_second_attempt_finds() -> None:
    calls: list[int] = []

    async def insert() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed"))
        return "the existing record"

    assert await once_more_after_a_race(insert) == "the existing record" and len(calls) == 2


def test_field_names_leave_out_the_union_member_pydantic_tried() -> None:
    assert problem_field(("body", "self_check", "items", "2.1", "constrained-float")) == "self_check.items.2.1"
    assert problem_field(("body", "self_check", "items", "2.1", "literal['n/a']")) == "self_check.items.2.1"
    assert problem_field(("body", "hazards", 0, "exposed")) == "hazards[0].exposed"
