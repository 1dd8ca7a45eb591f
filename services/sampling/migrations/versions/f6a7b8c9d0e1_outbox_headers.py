"""outbox headers

Revision ID: f6a7b8c9d0e1
Revises: cd8eabcece39
Create Date: 2026-12-06 22:00:00.000000

"""
from typing import Sequence, Union

from shared.migration_ops import outbox_headers_downgrade, outbox_headers_upgrade


# revision identifiers, used by Alembic.
revision: str = 'f6a7b8c9d0e1'
down_revision: Union[str, Sequence[str], None] = 'cd8eabcece39'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Outbox rows carry the trace context to publish with them: see shared/migration_ops.py."""
    outbox_headers_upgrade()


def downgrade() -> None:
    outbox_headers_downgrade()
