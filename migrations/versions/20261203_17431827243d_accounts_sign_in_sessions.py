"""accounts: e-mail, display name, language, password; web sessions; failed sign-ins

Revision ID: 17431827243d
Revises: a53b4c2fbf44
Create Date: 2026-12-03 12:51:30.068538
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cmsreporting.db

revision: str = '17431827243d'
down_revision: str | None = 'a53b4c2fbf44'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signin_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_failures'))
    )
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_failures_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_signin_failures_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_signin_failures_at'), ['at'], unique=False)

    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('digest', name=op.f('uq_user_sessions_digest'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('display_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))
        batch_op.add_column(sa.Column('password_hash', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('password_changed_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_email'), ['email'])



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_email'), type_='unique')
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('password_hash')
        batch_op.drop_column('language')
        batch_op.drop_column('display_name')
        batch_op.drop_column('email')

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_failures_at'))
        batch_op.drop_index(batch_op.f('ix_signin_failures_address'))
        batch_op.drop_index(batch_op.f('ix_signin_failures_account'))

    op.drop_table('signin_failures')
