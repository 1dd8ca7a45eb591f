"""Sampling pools: an employer sits in exactly one pool, and only a newer archive version moves it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlmodel import Session, select

from services.sampling.adapters.orm import MODELS, PoolMember
from services.sampling.service_layer.handlers import place_in_pool
from shared.contracts import ClassificationChanged
from shared.db import create_tables, make_engine

CREDIT_CODE = "91141029MA0GRT8U3L"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    create_tables(engine, MODELS)
    with Session(engine) as s:
        yield s
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


def apply(session: Session, event: ClassificationChanged) -> None:
    place_in_pool(session, event)
    session.commit()


def pool(session: Session) -> list[tuple[str, str, int]]:
    return [(m.region_code, m.category, m.archive_version) for m in session.exec(select(PoolMember)).all()]


def test_the_first_classification_places_the_employer_in_its_region_and_category(session: Session) -> None:
    apply(session, changed(1, "丙"))
    assert pool(session) == [("141029", "丙", 1)]


def test_a_newer_version_moves_the_employer_so_it_is_never_in_two_pools(session: Session) -> None:
    apply(session, changed(1, "丙"))
    apply(session, changed(3, "乙", region_code="141081", previous="丙"))
    assert pool(session) == [("141081", "乙", 3)]


@pytest.mark.parametrize("replayed_version", [1, 3], ids=["older", "equal"])
def test_an_older_or_equal_version_cannot_move_the_employer_back(session: Session, replayed_version: int) -> None:
    apply(session, changed(1, "丙"))
    apply(session, changed(3, "乙", previous="丙"))
    apply(session, changed(replayed_version, "甲", region_code="141081"))
    assert pool(session) == [("141029", "乙", 3)]
