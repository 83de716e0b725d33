"""account links: invitations and password resets

Revision ID: 36b2303f81ad
Revises: 615c12d5084e
Create Date: 2026-12-03 14:02:13.012773
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cmsreporting.db

revision: str = '36b2303f81ad'
down_revision: str | None = '615c12d5084e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('invitation', 'reset')", name=op.f('ck_account_links_known_purpose')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_links')),
    sa.UniqueConstraint('digest', name=op.f('uq_account_links_digest'))
    )
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_links_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_links_user_id'))

    op.drop_table('account_links')
