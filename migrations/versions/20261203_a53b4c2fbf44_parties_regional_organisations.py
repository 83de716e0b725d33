"""parties: regional organisations

A Party may be a regional economic integration organisation (the European Union, code EU),
which has no ISO 3166-1 numeric code: `kind` tells states from organisations, `numeric` may be
empty. Downgrading keeps such Parties (and all that refers to them) with an empty numeric code.

Revision ID: a53b4c2fbf44
Revises: b9fc31526bbd
Create Date: 2026-12-03 13:13:58.375610
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'a53b4c2fbf44'
down_revision: str | None = 'b9fc31526bbd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=60), server_default='state', nullable=False))
        batch_op.alter_column('numeric',
               existing_type=sa.VARCHAR(length=3),
               nullable=True)



def downgrade() -> None:
    op.execute("UPDATE parties SET numeric = '' WHERE numeric IS NULL")
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.alter_column('numeric',
               existing_type=sa.VARCHAR(length=3),
               nullable=False)
        batch_op.drop_column('kind')

