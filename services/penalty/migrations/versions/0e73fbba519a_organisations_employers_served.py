"""organisations employers served

Issue 17: penalty_org_engagement — one row per classified assessment report naming a technical service
organisation as its assessor (ohs.assessments.classified): the employers an organisation served, for the star
rating's share of employers served that it filed test reports for. Filled by the consumer group with the suffix org-rating.

Revision ID: 0e73fbba519a
Revises: 6349ba954a81
Create Date: 2026-12-07 01:16:44.370005

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders its column types


# revision identifiers, used by Alembic.
revision: str = '0e73fbba519a'
down_revision: Union[str, Sequence[str], None] = '6349ba954a81'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('penalty_org_engagement',
    sa.Column('submission_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('org_id', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('employer_credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('submission_id')
    )
    with op.batch_alter_table('penalty_org_engagement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_penalty_org_engagement_org_id'), ['org_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('penalty_org_engagement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_penalty_org_engagement_org_id'))

    op.drop_table('penalty_org_engagement')
