"""Sampling pools: an employer sits in exactly one pool, and only a newer archive version moves it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlmodel import select

from services.sampling import views
from services.sampling.adapters.orm import MODELS, PoolMember
from services.sampling.service_layer.handlers import place_in_pool
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork
from shared.contracts import ClassificationChanged
from shared.db import create_tables, make_engine

CREDIT_CODE = "91141029MA0GRT8U3L"


@pytest.fixture
def uow(tmp_path: Path) -> Iterator[SamplingUnitOfWork]:
    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    create_tables(engine, MODELS)
    with SamplingUnitOfWork(engine) as u:
        yield u
    engine.dispose()


def changed(version: int, category: str, region_code: str = "141029", previous: str | None = None) -> ClassificationChanged:
    return ClassificationChanged(
        producer="registry",
        credit_code=CREDIT_CODE,
        enterprise_name="乡宁县示例水泥有限公司",
        region_code=region_code,
        archive_version=version,
        previous_category=previous,
        category=category,
        hazard_grade="Ⅲ" if category == "丙" else "Ⅱ",
        management_grade="B",
        submission_id=uuid4(),
        reason="test",
    )


def apply(uow: SamplingUnitOfWork, event: ClassificationChanged) -> None:
    place_in_pool(uow, event)
    uow.commit()


def pool(uow: SamplingUnitOfWork) -> list[tuple[str, str, int]]:
    return [(m.region_code, m.category, m.archive_version) for m in uow.session.exec(select(PoolMember)).all()]


def test_the_first_classification_places_the_employer_in_its_region_and_category(uow: SamplingUnitOfWork) -> None:
    apply(uow, changed(1, "丙"))
    assert pool(uow) == [("141029", "丙", 1)]


def test_a_newer_version_moves_the_employer_so_it_is_never_in_two_pools(uow: SamplingUnitOfWork) -> None:
    apply(uow, changed(1, "丙"))
    apply(uow, changed(3, "乙", region_code="141081", previous="丙"))
    assert pool(uow) == [("141081", "乙", 3)]


@pytest.mark.parametrize("replayed_version", [1, 3], ids=["older", "equal"])
def test_an_older_or_equal_version_cannot_move_the_employer_back(uow: SamplingUnitOfWork, replayed_version: int) -> None:
    apply(uow, changed(1, "丙"))
    apply(uow, changed(3, "乙", previous="丙"))
    apply(uow, changed(replayed_version, "甲", region_code="141081"))
    assert pool(uow) == [("141029", "乙", 3)]


def test_a_change_with_the_same_category_still_brings_the_archives_current_facts(uow: SamplingUnitOfWork) -> None:
    apply(uow, changed(1, "丙").model_copy(update={"industry_codes": ["C3011"], "employees": 120}))
    apply(uow, changed(2, "丙", previous="丙").model_copy(update={
        "enterprise_name": "乡宁县示例纺织有限公司", "industry_codes": ["C1391"], "employees": 80, "changed": ["enterprise_name", "industry_codes", "employees"]}))
    uow.session.expire_all()
    [member] = uow.session.exec(select(PoolMember)).all()
    assert (member.enterprise_name, member.industry_codes, member.employees, member.archive_version) == (
        "乡宁县示例纺织有限公司", '["C1391"]', 80, 2)
    [shown] = views.pools(uow.session, "141029")["members"]["丙"]
    assert (shown["name"], shown["industry_codes"], shown["employees"]) == ("乡宁县示例纺织有限公司", ["C1391"], 80), "the pool view shows them"
