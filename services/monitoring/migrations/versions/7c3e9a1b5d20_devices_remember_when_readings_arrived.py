"""devices remember when their readings last arrived (the timer does not close a shift a back-fill is still filling)

Revision ID: 7c3e9a1b5d20
Revises: d6a1f29abec5
Create Date: 2026-12-07 02:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders its column types


# revision identifiers, used by Alembic.
revision: str = '7c3e9a1b5d20'
down_revision: Union[str, Sequence[str], None] = 'd6a1f29abec5'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('monitoring_device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('monitoring_device', schema=None) as batch_op:
        batch_op.drop_column('received_at')
