"""answers: stable ids of table rows

A row of a table answer carries a stable id under the reserved key `@id` (see
cmsreporting.core.rows). Rows stored before rows had ids get one here (a random UUID), so that
edits of those tables merge by row too; an answer's revision does not change (its report value
does not). Downgrading takes the ids out again (the earlier code reads them as an unknown column).

Revision ID: 7c1e5a9d3f20
Revises: 7c1e9b4d2a60
Create Date: 2026-12-03 16:20:00.000000
"""

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '7c1e5a9d3f20'
down_revision: str | None = '7c1e9b4d2a60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID = "@id"
BATCH = 1000
answers = sa.table(
    "answers",
    sa.column("id", sa.Integer),
    sa.column("value", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)


def _rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, dict) for r in value)


def _rewrite(change: Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None]) -> None:
    """Apply `change` to every table value, in batches by id; None leaves a value as it is."""
    bind = op.get_bind()
    last = 0
    while True:
        batch = bind.execute(
            sa.select(answers.c.id, answers.c.value)
            .where(answers.c.id > last)
            .order_by(answers.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for answer_id, value in batch:
            changed = change(value) if _rows(value) else None
            if changed is not None:
                bind.execute(
                    sa.update(answers).where(answers.c.id == answer_id).values(value=changed)
                )
        last = batch[-1][0]


def _with_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    if all(ROW_ID in row for row in rows):
        return None
    return [row if ROW_ID in row else {ROW_ID: str(uuid.uuid4()), **row} for row in rows]


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    if not any(ROW_ID in row for row in rows):
        return None
    return [{k: v for k, v in row.items() if k != ROW_ID} for row in rows]


def upgrade() -> None:
    _rewrite(_with_ids)


def downgrade() -> None:
    _rewrite(_without_ids)
