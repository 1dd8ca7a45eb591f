"""Each service's migration history builds exactly the tables its models declare."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from shared.db import make_engine
from shared.migrations import UnversionedDatabase, metadata_for, service_models, upgrade

SERVICES = ["assessment", "registry", "sampling", "penalty"]


def schema_drift(url: str, service: str) -> list:
    engine = make_engine(url)
    upgrade(service, engine)
    upgrade(service, engine)  # a second start-up changes nothing
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata_for(service_models(service)))


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_what_the_models_declare_on_sqlite(service: str, tmp_path: Path) -> None:
    assert schema_drift(f"sqlite:///{tmp_path / 'db.sqlite'}", service) == [], (
        f"the {service} models changed without a migration: python -m shared.migrations {service} revision -m '…'"
    )


def test_a_database_with_tables_but_no_history_is_refused_with_advice(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE registry_enterprise (credit_code TEXT PRIMARY KEY)"))
    with pytest.raises(UnversionedDatabase, match="stamp"):
        upgrade("registry", engine)
