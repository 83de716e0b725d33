"""mail outbox: e-mail queued with the change that causes it, sent later

Revision ID: 615c12d5084e
Revises: fd573108caeb
Create Date: 2026-12-03 13:57:42.068471
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cmsreporting.db

revision: str = '615c12d5084e'
down_revision: str | None = 'fd573108caeb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', cmsreporting.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_mail_outbox_known_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_mail_outbox_key'))
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_due', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_due')

    op.drop_table('mail_outbox')
