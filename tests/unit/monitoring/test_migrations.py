"""The monitoring service's migration history builds exactly the tables its models declare, and a second start-up
changes nothing (tests/unit/shared/test_migrations.py does the same for the other services)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.db import make_engine
from shared.migrations import metadata_for, service_models, upgrade


def test_migrations_build_what_the_models_declare_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade("monitoring", engine)
    upgrade("monitoring", engine)
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), metadata_for(service_models("monitoring")))
    engine.dispose()
    assert drift == [], "the monitoring models changed without a migration: python -m shared.migrations monitoring revision -m '…'"
