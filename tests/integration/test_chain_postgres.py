"""The change log on PostgreSQL: concurrent writers keep one unbroken chain per county, and a
row edited behind the registry's back is found."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from services.registry.adapters.orm import ChangeLogEntry
from services.registry.chain import main as chain_cli
from services.registry.service_layer import chain_log
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.db import make_engine
from shared.migrations import upgrade
from tests.support import new_credit_code
from tests.unit.registry.test_chain import classified

uow_of = RegistryUnitOfWork.joining  # the registry's use cases in a session the test owns and commits

pytestmark = pytest.mark.integration

REGIONS = ("141029", "141081")


def test_concurrent_writers_keep_each_county_chain_unbroken(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade("registry", engine)

    def writer(n: int) -> None:  # like a registry process of its own: its own connections, no retries
        for i in range(25):
            region = REGIONS[(n + i) % 2]
            event = classified(random.choice("甲乙丙"), date(2023, 6, 1), region=region, credit_code=new_credit_code(region))
            with Session(engine) as session:
                archive_classification(uow_of(session), event)
                session.commit()

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(writer, range(6)))

    with Session(engine) as session:
        results = {region: chain_log.verify_region(session, region) for region in REGIONS}
        assert {r: (res.ok, res.checked) for r, res in results.items()} == {r: (True, 75) for r in REGIONS}
        victim = session.exec(select(ChangeLogEntry).where(ChangeLogEntry.region_code == "141081").order_by(ChangeLogEntry.seq)).all()[10]

    assert chain_cli(["verify", "--all", "--database-url", postgres_url]) == 0
    with engine.begin() as connection:
        connection.execute(text("UPDATE registry_change_log SET reason = 'edited behind the registry''s back' WHERE seq = :s"), {"s": victim.seq})
    with Session(engine) as session:
        assert chain_log.verify_region(session, "141029").ok
        broken = chain_log.verify_region(session, "141081")
    assert (broken.ok, broken.first_broken, broken.credit_code) == (False, victim.seq, victim.credit_code)
    assert chain_cli(["verify", "--region", "141081", "--database-url", postgres_url]) == 1
    engine.dispose()
