"""inbox per consumer

Revision ID: bd538afd5403
Revises: 46df4611cc08
Create Date: 2026-11-22 20:23:43.232511

"""
from typing import Sequence, Union

from shared.migration_ops import inbox_per_consumer_downgrade, inbox_per_consumer_upgrade


# revision identifiers, used by Alembic.
revision: str = 'bd538afd5403'
down_revision: Union[str, Sequence[str], None] = '46df4611cc08'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """The inbox is keyed by (event_id, consumer): see shared/migration_ops.py."""
    inbox_per_consumer_upgrade()


def downgrade() -> None:
    inbox_per_consumer_downgrade()
