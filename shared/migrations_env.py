"""The body of every service's alembic ``env.py``: online migrations on the connection we pass."""

from __future__ import annotations

from alembic import context

from shared.migrations import metadata_for, service_models


def run() -> None:
    cfg = context.config
    service = cfg.attributes["service"]
    connection = cfg.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata_for(service_models(service)),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
