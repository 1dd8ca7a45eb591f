"""outbox set aside

Revision ID: cd8eabcece39
Revises: d848b726f5c6
Create Date: 2026-11-30 01:50:00.000000

"""
from typing import Sequence, Union

from shared.migration_ops import outbox_set_aside_downgrade, outbox_set_aside_upgrade


# revision identifiers, used by Alembic.
revision: str = 'cd8eabcece39'
down_revision: Union[str, Sequence[str], None] = 'd848b726f5c6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """The outbox can set a poison row aside: see shared/migration_ops.py."""
    outbox_set_aside_upgrade()


def downgrade() -> None:
    outbox_set_aside_downgrade()
