"""submissions by region newest first

Revision ID: d5e6f7a8b9c0
Revises: c4d5e6f7a8b9
Create Date: 2027-01-10 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'd5e6f7a8b9c0'
down_revision: Union[str, Sequence[str], None] = 'c4d5e6f7a8b9'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """GET /reports (issue 15): a county's submissions newest first, a page at a time, read from one index
    instead of every submission of the county sorted."""
    with op.batch_alter_table('assessment_submission', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_submission_region_received', ['region_code', 'received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assessment_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_submission_region_received')
