"""Each service's migration history builds exactly what its models declare on PostgreSQL too."""

from __future__ import annotations

import pytest

from tests.unit.shared.test_migrations import (
    SERVICES,
    SERVICES_BEFORE_THE_PER_CONSUMER_INBOX,
    inbox_rows_keep_counting_after_the_per_consumer_key,
    schema_drift,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_what_the_models_declare_on_postgresql(service: str, postgres_url: str) -> None:
    assert schema_drift(postgres_url, service) == []


@pytest.mark.parametrize("service", SERVICES_BEFORE_THE_PER_CONSUMER_INBOX)
def test_inbox_rows_keep_counting_after_the_per_consumer_key_on_postgresql(service: str, postgres_url: str) -> None:
    inbox_rows_keep_counting_after_the_per_consumer_key(postgres_url, service)


def test_two_replicas_starting_together_on_a_fresh_database_both_come_up(postgres_url: str) -> None:
    """Two registry replicas migrating one fresh database at the same moment: they take turns (an advisory
    lock), the second finds the schema built and both go on — before, one crashed creating the same tables."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.db import make_engine
    from shared.migrations import upgrade

    engines = [make_engine(postgres_url) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda engine: upgrade("registry", engine), engines))
    assert outcomes == [None, None]
    assert schema_drift(postgres_url, "registry") == []
