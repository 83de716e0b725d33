"""negative mappings

Revision ID: fd573108caeb
Revises: 4d2a9c7e1b35
Create Date: 2026-12-03 12:58:34.066033
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cmsreporting.db

revision: str = 'fd573108caeb'
down_revision: str | None = '4d2a9c7e1b35'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('negative_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=220), nullable=False),
    sa.Column('object', sa.String(length=220), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('justification', sa.Text(), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('created_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("relation IN ('exactMatch', 'closeMatch', 'broadMatch', 'narrowMatch', 'relatedMatch')", name=op.f('ck_negative_mappings_relation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_negative_mappings')),
    sa.UniqueConstraint('subject', 'object', name=op.f('uq_negative_mappings_subject_object'))
    )
    with op.batch_alter_table('negative_mappings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_negative_mappings_object'), ['object'], unique=False)
        batch_op.create_index(batch_op.f('ix_negative_mappings_subject'), ['subject'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('negative_mappings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_negative_mappings_subject'))
        batch_op.drop_index(batch_op.f('ix_negative_mappings_object'))

    op.drop_table('negative_mappings')
