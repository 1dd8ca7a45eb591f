"""outbox set aside

Revision ID: 7bb493dbbe44
Revises: 3a1c66ade4e6
Create Date: 2026-11-30 01:50:00.000000

"""
from typing import Sequence, Union

from shared.migration_ops import outbox_set_aside_downgrade, outbox_set_aside_upgrade


# revision identifiers, used by Alembic.
revision: str = '7bb493dbbe44'
down_revision: Union[str, Sequence[str], None] = '3a1c66ade4e6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """The outbox can set a poison row aside: see shared/migration_ops.py."""
    outbox_set_aside_upgrade()


def downgrade() -> None:
    outbox_set_aside_downgrade()
