"""Each service's migration history builds exactly what its models declare on PostgreSQL too."""

from __future__ import annotations

import pytest

from tests.unit.shared.test_migrations import SERVICES, schema_drift

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_what_the_models_declare_on_postgresql(service: str, postgres_url: str) -> None:
    assert schema_drift(postgres_url, service) == []
