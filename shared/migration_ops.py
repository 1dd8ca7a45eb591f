"""Migration operations on the tables every service shares (the inbox and the outbox).

Each service has its own migration history, but these tables are the same everywhere: a change
to them is written once here and called from a revision in every service.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


def _inbox_table(name: str, key: list[str]) -> None:
    op.create_table(
        name,
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        *([sa.Column("consumer", sqlmodel.sql.sqltypes.AutoString(length=100), server_default="", nullable=False)] if "consumer" in key else []),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("processed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )


def inbox_per_consumer_upgrade() -> None:
    """The inbox is keyed by (event_id, consumer), so that two subscribers of this service that both
    receive an event (each in its own consumer group) each apply it once. Rows already there were
    written by the service's own consumer group: consumer ''. Written by hand: autogenerate does
    not see primary-key changes."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":  # SQLite cannot alter a primary key: copy the rows into a new table
        _inbox_table("_processed_event_new", ["event_id", "consumer"])
        op.execute(
            "INSERT INTO _processed_event_new (event_id, consumer, topic, processed_at) "
            "SELECT event_id, '', topic, processed_at FROM processed_event"
        )
        op.drop_table("processed_event")
        op.rename_table("_processed_event_new", "processed_event")
        return
    op.add_column("processed_event", sa.Column("consumer", sqlmodel.sql.sqltypes.AutoString(length=100), server_default="", nullable=False))
    name = sa.inspect(bind).get_pk_constraint("processed_event")["name"]
    op.drop_constraint(name, "processed_event", type_="primary")
    op.create_primary_key(name, "processed_event", ["event_id", "consumer"])


def inbox_per_consumer_downgrade() -> None:
    """Back to one inbox row per event_id: the rows of extra consumer groups are dropped."""
    bind = op.get_bind()
    op.execute("DELETE FROM processed_event WHERE consumer <> ''")
    if bind.dialect.name == "sqlite":
        _inbox_table("_processed_event_old", ["event_id"])
        op.execute(
            "INSERT INTO _processed_event_old (event_id, topic, processed_at) SELECT event_id, topic, processed_at FROM processed_event"
        )
        op.drop_table("processed_event")
        op.rename_table("_processed_event_old", "processed_event")
        return
    name = sa.inspect(bind).get_pk_constraint("processed_event")["name"]
    op.drop_constraint(name, "processed_event", type_="primary")
    op.create_primary_key(name, "processed_event", ["event_id"])
    op.drop_column("processed_event", "consumer")


def outbox_set_aside_upgrade() -> None:
    """The outbox can set a row aside (the broker refused it for good) instead of blocking behind it."""
    op.add_column("outbox", sa.Column("failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("outbox", sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))


def outbox_set_aside_downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("error")
        batch.drop_column("failed_at")


def outbox_headers_upgrade() -> None:
    """An outbox row carries the Kafka headers to publish with it: the W3C trace context of the unit of
    work that wrote it (a JSON object; shared.tracing). Rows written before have none."""
    op.add_column("outbox", sa.Column("headers", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def outbox_headers_downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("headers")
