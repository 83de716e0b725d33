"""memberships: history and recorded source

A membership keeps the date its withdrawal or denunciation took effect (`withdrawn_on`, after
`since`), and the list it was taken from: `source` (its address), `source_name` and the date it
was read (`source_read_on`).

Revision ID: 7c1e9b4d2a60
Revises: 6c3110bc32f9
Create Date: 2026-12-03 16:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '7c1e9b4d2a60'
down_revision: str | None = '6c3110bc32f9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('source_name', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('source_read_on', sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_memberships_withdrawn_after_since'),
            'since IS NULL OR withdrawn_on IS NULL OR since < withdrawn_on',
        )


def downgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_memberships_withdrawn_after_since'), type_='check')
        batch_op.drop_column('source_read_on')
        batch_op.drop_column('source_name')
        batch_op.drop_column('withdrawn_on')
