"""outbox headers

Revision ID: b2c3d4e5f6a7
Revises: f65f41b07d10
Create Date: 2026-12-06 22:00:00.000000

"""
from typing import Sequence, Union

from shared.migration_ops import outbox_headers_downgrade, outbox_headers_upgrade


# revision identifiers, used by Alembic.
revision: str = 'b2c3d4e5f6a7'
down_revision: Union[str, Sequence[str], None] = 'f65f41b07d10'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Outbox rows carry the trace context to publish with them: see shared/migration_ops.py."""
    outbox_headers_upgrade()


def downgrade() -> None:
    outbox_headers_downgrade()
