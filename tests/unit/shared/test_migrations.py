"""Each service's migration history builds exactly the tables its models declare."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from shared.db import make_engine
from shared.migrations import UnversionedDatabase, metadata_for, service_models, upgrade

SERVICES = ["assessment", "registry", "sampling", "penalty", "notification", "console", "monitoring"]
SERVICES_BEFORE_THE_PER_CONSUMER_INBOX = ["assessment", "registry", "sampling", "penalty"]  # notification was born with it


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


def inbox_rows_keep_counting_after_the_per_consumer_key(url: str, service: str) -> None:
    """The "inbox per consumer" revision: an event applied before it still counts as applied by the
    service's own group (consumer ''), and another group may now record the same event."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlmodel import Session

    from shared.db import already_processed, mark_processed
    from shared.migrations import config

    engine = make_engine(url)
    revision = next(r for r in ScriptDirectory.from_config(config(service)).walk_revisions() if r.doc == "inbox per consumer")
    with engine.begin() as connection:
        cfg = config(service)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision.down_revision)
        connection.execute(text("INSERT INTO processed_event (event_id, topic, processed_at) VALUES ('e-1', 't', '2026-01-01 00:00:00')"))
    upgrade(service, engine)
    with Session(engine) as session:
        assert already_processed(session, "e-1") and not already_processed(session, "e-1", "credit-feed")
        mark_processed(session, "e-1", "t", "credit-feed")
        session.commit()
        assert already_processed(session, "e-1", "credit-feed")
    engine.dispose()


@pytest.mark.parametrize("service", SERVICES_BEFORE_THE_PER_CONSUMER_INBOX)
def test_inbox_rows_keep_counting_after_the_per_consumer_key_on_sqlite(service: str, tmp_path: Path) -> None:
    inbox_rows_keep_counting_after_the_per_consumer_key(f"sqlite:///{tmp_path / 'db.sqlite'}", service)
