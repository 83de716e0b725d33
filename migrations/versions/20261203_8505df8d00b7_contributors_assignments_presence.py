"""contributors, assignments, presence

A Party's contributor is a role grant scoped to a Party only; assignments give contributors
parts of a workspace; presence records who has a workspace's form open.

Revision ID: 8505df8d00b7
Revises: 7c1e5a9d3f20
Create Date: 2026-12-03 15:57:10.259590
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cmsreporting.db

revision: str = '8505df8d00b7'
down_revision: str | None = '7c1e5a9d3f20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_ROLES = "role IN ('admin', 'secretariat', 'focal_point', 'reviewer')"
NEW_ROLES = "role IN ('admin', 'secretariat', 'focal_point', 'reviewer', 'contributor')"
OLD_SCOPE = (
    "(role = 'secretariat' AND convention_code IS NOT NULL AND party_iso3 IS NULL)"
    " OR (role = 'focal_point' AND convention_code IS NOT NULL AND party_iso3 IS NOT NULL)"
    " OR (role IN ('admin', 'reviewer') AND convention_code IS NULL AND party_iso3 IS NULL)"
)
NEW_SCOPE = (
    "(role = 'secretariat' AND convention_code IS NOT NULL AND party_iso3 IS NULL)"
    " OR (role = 'focal_point' AND convention_code IS NOT NULL AND party_iso3 IS NOT NULL)"
    " OR (role = 'contributor' AND convention_code IS NULL AND party_iso3 IS NOT NULL)"
    " OR (role IN ('admin', 'reviewer') AND convention_code IS NULL AND party_iso3 IS NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_role_grants_known_role'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_role_grants_scope'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_role_grants_known_role'), NEW_ROLES)
        batch_op.create_check_constraint(batch_op.f('ck_role_grants_scope'), NEW_SCOPE)
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("status IN ('not_started', 'in_progress', 'ready', 'done')", name=op.f('ck_assignments_known_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assignments_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_assignments_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('workspace_id', 'section', name=op.f('uq_assignments_workspace_id_section'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('presence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=200), nullable=True),
    sa.Column('slot', sa.String(length=300), nullable=True),
    sa.Column('seen_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_presence_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_presence_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presence')),
    sa.UniqueConstraint('workspace_id', 'user_id', name=op.f('uq_presence_workspace_id_user_id'))
    )
    with op.batch_alter_table('presence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_presence_seen_at'), ['seen_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('presence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_presence_seen_at'))

    op.drop_table('presence')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignments_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_user_id'))

    op.drop_table('assignments')
    op.execute("DELETE FROM role_grants WHERE role = 'contributor'")
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_role_grants_known_role'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_role_grants_scope'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_role_grants_known_role'), OLD_ROLES)
        batch_op.create_check_constraint(batch_op.f('ck_role_grants_scope'), OLD_SCOPE)
