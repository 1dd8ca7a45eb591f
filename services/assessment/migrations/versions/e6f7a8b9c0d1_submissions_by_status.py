"""submissions by status newest first

Revision ID: e6f7a8b9c0d1
Revises: d5e6f7a8b9c0
Create Date: 2026-12-06 19:50:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'e6f7a8b9c0d1'
down_revision: Union[str, Sequence[str], None] = 'd5e6f7a8b9c0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """GET /reports?status= (the console's dashboard: reports awaiting classification, reports returned): read from
    one index instead of scanning every submission (at 10⁵ submissions on PostgreSQL: ~128 ms → ~7 ms, make bench)."""
    with op.batch_alter_table('assessment_submission', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_submission_status_received', ['status', 'received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assessment_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_submission_status_received')
