"""reason messages

Revision ID: c4d5e6f7a8b9
Revises: 7bb493dbbe44
Create Date: 2026-12-06 16:00:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'c4d5e6f7a8b9'
down_revision: Union[str, Sequence[str], None] = '7bb493dbbe44'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """A rejected submission keeps its reasons' message codes and parameters beside their Chinese texts (issue 14)."""
    op.add_column('assessment_submission', sa.Column('reason_messages', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('assessment_submission', 'reason_messages')
