"""Rotating the token-signing secret without a moment when valid tokens are refused: the services verify with
the new secret and, while OHS_AUTH_SECRET_PREVIOUS is set, with the previous one; a token signed with any other
secret is refused as before."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from services.registry.bootstrap import bootstrap as registry_app
from shared.auth import issue_token
from shared.migrations import upgrade
from shared.settings import settings_for

OLD, NEW, OTHER = "old-secret-" + "o" * 20, "new-secret-" + "n" * 20, "someone-else-" + "x" * 20


def registry(folder: Path, **secrets: str) -> TestClient:
    app = registry_app(settings_for("registry", data_dir=folder, **secrets), create_topics=False)
    upgrade("registry", app.state.runtime.engine)
    return TestClient(app)


def answer(client: TestClient, secret: str) -> int:
    token = issue_token(secret, "county", "洪洞县 李四", region_code="141024")
    return client.get("/enterprises", headers={"Authorization": f"Bearer {token}"}).status_code


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new_one(tmp_path: Path) -> None:
    before = registry(tmp_path / "a", auth_secret=OLD)
    assert (answer(before, OLD), answer(before, NEW)) == (200, 401)

    during = registry(tmp_path / "b", auth_secret=NEW, auth_secret_previous=OLD)
    assert (answer(during, NEW), answer(during, OLD), answer(during, OTHER)) == (200, 200, 401)

    after = registry(tmp_path / "c", auth_secret=NEW)
    assert (answer(after, NEW), answer(after, OLD)) == (200, 401)
    body = after.get("/enterprises", headers={"Authorization": "Bearer " + issue_token(OLD, "county", "x", region_code="141024")}).json()
    assert body["code"] == "errors.auth.token_signature"
