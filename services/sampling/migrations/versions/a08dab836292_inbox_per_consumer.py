"""inbox per consumer

Revision ID: a08dab836292
Revises: 87bda72b843c
Create Date: 2026-11-22 20:23:40.999773

"""
from typing import Sequence, Union

from shared.migration_ops import inbox_per_consumer_downgrade, inbox_per_consumer_upgrade


# revision identifiers, used by Alembic.
revision: str = 'a08dab836292'
down_revision: Union[str, Sequence[str], None] = '87bda72b843c'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """The inbox is keyed by (event_id, consumer): see shared/migration_ops.py."""
    inbox_per_consumer_upgrade()


def downgrade() -> None:
    inbox_per_consumer_downgrade()
