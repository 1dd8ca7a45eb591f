"""rectification

The rectification loop (整改 → 审核 → 解除, issue 13): registry_rectification_item, one per
shortcoming an employer has to put right (raised from penalty's screening of a classified report),
registry_rectification_step, every step of its history (each also announced on
ohs.registry.rectification-progressed), registry_rectification_submission, the employer's
corrections and their review, and registry_rectification_attachment, the files (the bytes are in
the attachment store; a row keeps the key, size and SHA-256).

Revision ID: d1e2f3a4b5c6
Revises: 855f308c6dd2
Create Date: 2026-12-01 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders its column types


# revision identifiers, used by Alembic.
revision: str = 'd1e2f3a4b5c6'
down_revision: Union[str, Sequence[str], None] = '855f308c6dd2'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('registry_rectification_item',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('shortcoming_code', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('shortcoming_kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('shortcoming_subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('shortcoming_text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('submission_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('latest_submission_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('screening_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('item_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('provision_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('screening', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('deadline_basis', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.Column('reminded_for', sa.Date(), nullable=True),
    sa.Column('steps', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('registry_rectification_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_rectification_item_credit_code'), ['credit_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_rectification_item_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_rectification_item_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_registry_rectification_item_shortcoming', ['credit_code', 'shortcoming_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_rectification_item_status'), ['status'], unique=False)

    op.create_table('registry_rectification_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('screening_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('submission_n', sa.Integer(), nullable=True),
    sa.Column('corrected_on', sa.Date(), nullable=True),
    sa.Column('corrected_in_time', sa.Boolean(), nullable=True),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id'),
    sa.UniqueConstraint('item_id', 'seq', name='uq_registry_rectification_step')
    )
    with op.batch_alter_table('registry_rectification_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_rectification_step_screening_id'), ['screening_id'], unique=False)
    op.create_table('registry_rectification_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('reviewed_on', sa.Date(), nullable=True),
    sa.Column('reviewed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('review_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'n', name='uq_registry_rectification_submission')
    )
    op.create_table('registry_rectification_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('submission_n', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'n', name='uq_registry_rectification_attachment')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('registry_rectification_attachment')
    op.drop_table('registry_rectification_submission')
    with op.batch_alter_table('registry_rectification_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_rectification_step_screening_id'))
    op.drop_table('registry_rectification_step')
    with op.batch_alter_table('registry_rectification_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_rectification_item_status'))
        batch_op.drop_index('ix_registry_rectification_item_shortcoming')
        batch_op.drop_index(batch_op.f('ix_registry_rectification_item_region_code'))
        batch_op.drop_index(batch_op.f('ix_registry_rectification_item_deadline'))
        batch_op.drop_index(batch_op.f('ix_registry_rectification_item_credit_code'))

    op.drop_table('registry_rectification_item')
