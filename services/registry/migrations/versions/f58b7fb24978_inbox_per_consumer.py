"""inbox per consumer

Revision ID: f58b7fb24978
Revises: 2fc81acb76e9
Create Date: 2026-11-22 20:23:38.155221

"""
from typing import Sequence, Union

from shared.migration_ops import inbox_per_consumer_downgrade, inbox_per_consumer_upgrade


# revision identifiers, used by Alembic.
revision: str = 'f58b7fb24978'
down_revision: Union[str, Sequence[str], None] = '2fc81acb76e9'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """The inbox is keyed by (event_id, consumer): see shared/migration_ops.py."""
    inbox_per_consumer_upgrade()


def downgrade() -> None:
    inbox_per_consumer_downgrade()
