"""A disabled console account's tokens are refused by every service: the revocation list and the 401."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared import errors
from shared.auth import Principal, authenticate, issue_token
from shared.contracts.access import AccessRevoked
from shared.revocations import Revocations
from tests.support import TEST_AUTH_SECRET

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc).timestamp()


def _app(revocations: Revocations) -> TestClient:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(settings=SimpleNamespace(auth_secret=TEST_AUTH_SECRET), revocations=revocations)
    errors.install(app)

    @app.get("/me")
    async def me(principal: Annotated[Principal, Depends(authenticate)]) -> dict:
        return {"subject": principal.subject}

    return TestClient(app)


def _token(subject: str, at: float) -> str:
    return issue_token(TEST_AUTH_SECRET, "county", "王", region_code="141029", subject=subject, valid_seconds=300, now=at)


def test_tokens_issued_before_the_revocation_are_refused_and_later_ones_honoured():
    revocations = Revocations()
    revocations.record("console:a", datetime.fromtimestamp(T0, timezone.utc))
    assert revocations.refuses("console:a", T0 - 1) and not revocations.refuses("console:a", T0 + 1)
    assert not revocations.refuses("console:b", T0 - 1)  # only that subject
    assert revocations.refuses("console:a", None)  # a token without iat (made before iat existed) is refused too


def test_a_revoked_subject_gets_401_token_revoked_from_a_service():
    revocations = Revocations()
    client = _app(revocations)
    import time

    now = time.time()
    token = _token("console:x", now - 5)
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    revocations.record("console:x", datetime.fromtimestamp(now, timezone.utc))
    refused = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.json()["code"] == "errors.auth.token_revoked"
    fresh = _token("console:x", now + 1)  # signed in again after being enabled: honoured
    assert client.get("/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_the_latest_revocation_wins_and_the_event_is_keyed_by_subject():
    revocations = Revocations()
    revocations.record("s", datetime.fromtimestamp(T0, timezone.utc))
    revocations.record("s", datetime.fromtimestamp(T0 - 100, timezone.utc))  # an older one read later changes nothing
    assert revocations.refuses("s", T0 - 1)
    event = AccessRevoked(producer="console", subject="console:1", not_before=datetime.fromtimestamp(T0, timezone.utc))
    assert event.key == b"console:1"
