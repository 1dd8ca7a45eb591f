"""Each service's migration history builds exactly what its models declare on PostgreSQL too."""

from __future__ import annotations

import pytest

from tests.unit.shared.test_migrations import SERVICES, inbox_rows_keep_counting_after_the_per_consumer_key, schema_drift

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_what_the_models_declare_on_postgresql(service: str, postgres_url: str) -> None:
    assert schema_drift(postgres_url, service) == []


@pytest.mark.parametrize("service", SERVICES)
def test_inbox_rows_keep_counting_after_the_per_consumer_key_on_postgresql(service: str, postgres_url: str) -> None:
    inbox_rows_keep_counting_after_the_per_consumer_key(postgres_url, service)
