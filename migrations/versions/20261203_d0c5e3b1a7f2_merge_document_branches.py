"""merge the document uploads and the answer citations

The two migrations of issue 15's parallel branches both follow 3f2d8a6c1e47; this empty
revision joins them so that the web interface's branch has one head. Drop it when one of the
two is re-chained after the other.

Revision ID: d0c5e3b1a7f2
Revises: b71e4d2c9a05, b7d4e2a91c05
Create Date: 2026-12-03 19:25:00.000000
"""

from collections.abc import Sequence

revision: str = "d0c5e3b1a7f2"
down_revision: str | Sequence[str] | None = ("b71e4d2c9a05", "b7d4e2a91c05")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
