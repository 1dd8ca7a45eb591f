"""免检 in the sampling pools (SQLite, migrated by the sampling migrations): an exempted employer
leaves its pool — listed apart, not counted — and comes back when the exemption ends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from services.sampling import views
from services.sampling.bootstrap import bootstrap
from services.sampling.domain.pools import exemption_update
from services.sampling.service_layer.handlers import apply_exemption, place_in_pool
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork
from shared.auth import issue_token
from shared.contracts import ExemptionChanged
from shared.db import make_engine
from shared.migrations import upgrade
from shared.settings import settings_for
from tests.unit.sampling.test_pools import CREDIT_CODE, changed

SECRET = "test-secret-for-the-sampling-tests"


@pytest.fixture
def uow(tmp_path: Path) -> Iterator[SamplingUnitOfWork]:
    engine = make_engine(f"sqlite:///{tmp_path / 'sampling.db'}")
    upgrade("sampling", engine)
    with SamplingUnitOfWork(engine) as u:
        yield u
    engine.dispose()


def exemption(exempt: bool, exemption_id: UUID, region: str = "141029") -> ExemptionChanged:
    return ExemptionChanged(producer="registry", credit_code=CREDIT_CODE, exemption_id=exemption_id, region_code=region, exempt=exempt,
                            valid_from=date(2026, 12, 1), valid_until=date(2026, 12, 31), reason="信用 A 级")


def test_an_exemption_starts_once_and_ends_for_good() -> None:
    assert exemption_update(None, True) is True
    assert exemption_update(True, False) is False
    assert exemption_update(True, True) is None, "already exempt"
    assert exemption_update(False, True) is None, "an end is final: a late start is ignored"
    assert exemption_update(None, False) is False, "an end arriving first is kept"


def test_an_exempted_employer_leaves_the_pool_and_is_readmitted(uow: SamplingUnitOfWork) -> None:
    place_in_pool(uow, changed(1, "丙"))
    uow.commit()
    assert views.pools(uow.session, "141029")["counts"]["丙"] == 1

    granted = uuid4()
    apply_exemption(uow, exemption(True, granted))
    uow.commit()
    pools = views.pools(uow.session, "141029")
    assert (pools["counts"], pools["total"], pools["members"]["丙"]) == ({"甲": 0, "乙": 0, "丙": 0}, 0, [])
    [listed] = pools["exempted"]
    assert (listed["credit_code"], listed["category"], listed["exemption_id"], listed["exempt_until"]) == (
        CREDIT_CODE, "丙", str(granted), "2026-12-31")

    place_in_pool(uow, changed(2, "乙", previous="丙"))  # a classification change while exempt: kept, still apart
    uow.commit()
    assert views.pools(uow.session, "141029")["exempted"][0]["category"] == "乙"

    apply_exemption(uow, exemption(False, granted))
    uow.commit()
    pools = views.pools(uow.session, "141029")
    assert pools["counts"]["乙"] == 1 and pools["exempted"] == [] and pools["total"] == 1
    apply_exemption(uow, exemption(True, granted))  # a replayed start after the end
    uow.commit()
    assert views.pools(uow.session, "141029")["exempted"] == []


def test_an_exemption_arriving_before_the_classification_still_applies(uow: SamplingUnitOfWork) -> None:
    apply_exemption(uow, exemption(True, uuid4()))
    place_in_pool(uow, changed(1, "甲"))
    uow.commit()
    pools = views.pools(uow.session, "141000")  # the city sees it too
    assert pools["counts"]["甲"] == 0 and [m["credit_code"] for m in pools["exempted"]] == [CREDIT_CODE]


def test_the_pools_endpoint_lists_the_exempted_apart(tmp_path: Path) -> None:
    app = bootstrap(settings_for("sampling", data_dir=tmp_path, auth_secret=SECRET), create_topics=False)
    engine = app.state.runtime.engine
    upgrade("sampling", engine)
    with app.state.runtime.uow() as u:
        place_in_pool(u, changed(1, "丙"))
        apply_exemption(u, exemption(True, uuid4()))
        u.commit()
    token = issue_token(SECRET, "county", "乡宁县 张三", region_code="141029")
    body = TestClient(app).get("/pools/141029", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["counts"]["丙"] == 0 and body["total"] == 0 and body["exempted"][0]["credit_code"] == CREDIT_CODE
    engine.dispose()
