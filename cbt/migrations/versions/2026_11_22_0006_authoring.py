"""authoring: drafts of courses edited in the browser, and course grants (who may author which course)

Revision ID: 0006_authoring
Revises: 0002_courses_learning
Create Date: 2026-11-22 09:02:49.330372
"""

from alembic import op
import sqlalchemy as sa
import cbt.db


revision = '0006_authoring'
down_revision = '0002_courses_learning'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('course_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', cbt.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_course_grants_granted_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_course_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_grants')),
    sa.UniqueConstraint('course_slug', 'user_id', name=op.f('uq_course_grants_course_slug_user_id'))
    )
    with op.batch_alter_table('course_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_grants_course_slug'), ['course_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_grants_user_id'), ['user_id'], unique=False)

    op.create_table('drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=80), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', cbt.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', cbt.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('changelog', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('translation', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=True),
    sa.Column('media_labels', sa.JSON(), nullable=False),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.CheckConstraint('revision >= 0', name=op.f('ck_drafts_revision_not_negative')),
    sa.ForeignKeyConstraint(['based_on_id'], ['course_versions.id'], name=op.f('fk_drafts_based_on_id_course_versions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_drafts_created_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_drafts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drafts')),
    sa.UniqueConstraint('course_slug', name=op.f('uq_drafts_course_slug')),
    sa.UniqueConstraint('uuid', name=op.f('uq_drafts_uuid'))
    )


def downgrade() -> None:
    op.drop_table('drafts')
    with op.batch_alter_table('course_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_course_grants_course_slug'))

    op.drop_table('course_grants')
