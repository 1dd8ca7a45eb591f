"""What the organisations' tests share: credit codes, an organisation's token, the penalty app without a broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from services.penalty.bootstrap import bootstrap
from shared.auth import issue_token
from shared.identifiers import credit_code_check_character
from tests.support import TEST_AUTH_SECRET, app_without_broker


def code(serial: int, region: str = "141000") -> str:
    body = f"91{region}MA{serial:07d}"
    return body + credit_code_check_character(body)


def org_auth(credit_code: str, region: str = "140000", name: str = "山西示例检测有限公司") -> dict[str, str]:
    """The bearer header of an organisation accredited in ``region``."""
    token = issue_token(TEST_AUTH_SECRET, "organisation", name, credit_code=credit_code, region_code=region, valid_days=1)
    return {"Authorization": f"Bearer {token}"}


def penalty_client(tmp_path: Path) -> Iterator[TestClient]:
    """The penalty service's app on a fresh SQLite database, no broker (its outbox holds what it would publish)."""
    app = app_without_broker(bootstrap, "penalty", tmp_path)
    yield TestClient(app)
    app.state.runtime.engine.dispose()
