"""The 行政行为码 sequence per region and year, taken inside the case-creating transaction.

``UPDATE … SET last_sequence = last_sequence + 1 … RETURNING`` takes the counter row's lock (on
PostgreSQL the same row lock as SELECT … FOR UPDATE; SQLite serialises writers): a concurrent
transaction waits until this one commits or rolls back, so sequences are unique and without gaps
among committed cases. The first case of a region and year inserts the row inside a savepoint; when
another transaction inserted it first, the update is taken instead.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.penalty.adapters.orm import CaseCodeCounter


def next_sequence(session: Session, region_code: str, year: int) -> int:
    for _ in range(3):
        taken = session.execute(
            update(CaseCodeCounter)
            .where(CaseCodeCounter.region_code == region_code, CaseCodeCounter.year == year)  # type: ignore[arg-type]
            .values(last_sequence=CaseCodeCounter.last_sequence + 1)
            .returning(CaseCodeCounter.last_sequence)
        ).scalar_one_or_none()
        if taken is not None:
            return int(taken)
        try:
            with session.begin_nested():
                session.add(CaseCodeCounter(region_code=region_code, year=year, last_sequence=1))
                session.flush()
            return 1
        except IntegrityError:  # inserted concurrently: take the next one by update
            continue
    raise RuntimeError(f"no case-code sequence for {region_code}/{year}")
