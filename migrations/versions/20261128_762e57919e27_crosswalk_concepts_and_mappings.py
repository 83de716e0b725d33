"""crosswalk concepts and mappings

Revision ID: 762e57919e27
Revises: f1f1471e4acc
Create Date: 2026-11-28 05:19:43.053209
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import cmsreporting.db

revision: str = '762e57919e27'
down_revision: str | None = 'f1f1471e4acc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('concepts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_concepts')),
    sa.UniqueConstraint('key', name=op.f('uq_concepts_key'))
    )
    op.create_table('concept_tags',
    sa.Column('concept_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['concept_id'], ['concepts.id'], name=op.f('fk_concept_tags_concept_id_concepts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('concept_id', 'tag', name=op.f('pk_concept_tags'))
    )
    with op.batch_alter_table('concept_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_concept_tags_tag'), ['tag'], unique=False)

    op.create_table('mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('concept_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=100), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('transform', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('justification', sa.Text(), nullable=True),
    sa.Column('mapping_justification', sa.String(length=60), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('approved_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', cmsreporting.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("relation IN ('exactMatch', 'closeMatch', 'broadMatch', 'narrowMatch', 'relatedMatch')", name=op.f('ck_mappings_relation')),
    sa.CheckConstraint("status IN ('proposed', 'approved')", name=op.f('ck_mappings_status')),
    sa.CheckConstraint('confidence IS NULL OR (confidence >= 0 AND confidence <= 1)', name=op.f('ck_mappings_confidence')),
    sa.ForeignKeyConstraint(['concept_id'], ['concepts.id'], name=op.f('fk_mappings_concept_id_concepts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['template_id'], ['templates.id'], name=op.f('fk_mappings_template_id_templates'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mappings')),
    sa.UniqueConstraint('concept_id', 'template_id', 'question_id', name=op.f('uq_mappings_concept_id_template_id_question_id'))
    )
    with op.batch_alter_table('mappings', schema=None) as batch_op:
        batch_op.create_index('ix_mappings_template_question', ['template_id', 'question_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('mappings', schema=None) as batch_op:
        batch_op.drop_index('ix_mappings_template_question')

    op.drop_table('mappings')
    with op.batch_alter_table('concept_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_concept_tags_tag'))

    op.drop_table('concept_tags')
    op.drop_table('concepts')

