"""one propagating mapping per question

Revision ID: b9fc31526bbd
Revises: 7fe34dafad91
Create Date: 2026-11-28 06:03:26.475264
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cmsreporting.db

revision: str = 'b9fc31526bbd'
down_revision: str | None = '7fe34dafad91'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table('mappings', schema=None) as batch_op:
        batch_op.create_index('uq_mappings_one_propagating', ['template_id', 'question_id'], unique=True, postgresql_where=sa.text("status = 'approved' AND relation IN ('exactMatch', 'closeMatch')"), sqlite_where=sa.text("status = 'approved' AND relation IN ('exactMatch', 'closeMatch')"))




def downgrade() -> None:

    with op.batch_alter_table('mappings', schema=None) as batch_op:
        batch_op.drop_index('uq_mappings_one_propagating', postgresql_where=sa.text("status = 'approved' AND relation IN ('exactMatch', 'closeMatch')"), sqlite_where=sa.text("status = 'approved' AND relation IN ('exactMatch', 'closeMatch')"))


