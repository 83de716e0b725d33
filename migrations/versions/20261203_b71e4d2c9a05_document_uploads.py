"""document uploads

Resumable (tus) uploads in progress: who started them for which Party, the document's
metadata, the length announced and the offset reached (the bytes are in a partial file).

Revision ID: b71e4d2c9a05
Revises: 3f2d8a6c1e47
Create Date: 2026-12-03 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cmsreporting.db

revision: str = "b71e4d2c9a05"
down_revision: str | None = "3f2d8a6c1e47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_uploads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("party_iso3", sa.String(length=3), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("replaces", sa.Integer(), nullable=True),
        sa.Column("upload_length", sa.BigInteger(), nullable=False),
        sa.Column("upload_offset", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "upload_offset <= upload_length",
            name=op.f("ck_document_uploads_offset_in_length"),
        ),
        sa.ForeignKeyConstraint(
            ["party_iso3"],
            ["parties.iso3"],
            name=op.f("fk_document_uploads_party_iso3_parties"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replaces"],
            ["documents.id"],
            name=op.f("fk_document_uploads_replaces_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_uploads_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_uploads")),
    )
    with op.batch_alter_table("document_uploads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_uploads_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("document_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_uploads_expires_at"))
    op.drop_table("document_uploads")
