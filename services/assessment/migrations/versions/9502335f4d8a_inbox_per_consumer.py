"""inbox per consumer

Revision ID: 9502335f4d8a
Revises: 667e4de15d1e
Create Date: 2026-11-22 20:23:36.774516

"""
from typing import Sequence, Union

from shared.migration_ops import inbox_per_consumer_downgrade, inbox_per_consumer_upgrade


# revision identifiers, used by Alembic.
revision: str = '9502335f4d8a'
down_revision: Union[str, Sequence[str], None] = '667e4de15d1e'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """The inbox is keyed by (event_id, consumer): see shared/migration_ops.py."""
    inbox_per_consumer_upgrade()


def downgrade() -> None:
    inbox_per_consumer_downgrade()
