"""answer citations and submission pins

Answers cite documents of the workspace Party's library (a JSON list of document ids); a
submission keeps the documents its report cited, each pinned to the version current when it
was submitted (a JSON list, read with the submission and never changed).

Revision ID: b7d4e2a91c05
Revises: b71e4d2c9a05
Create Date: 2026-12-03 19:10:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7d4e2a91c05"
down_revision: str | None = "b71e4d2c9a05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("documents", _json(), nullable=True))
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("documents", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("documents")
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_column("documents")
