"""cohorts: classes of trainees, their members and assigned courses with due dates

Revision ID: 0005_cohorts
Revises: 0002_courses_learning
Create Date: 2026-11-22 09:01:16.329043
"""

from alembic import op
import sqlalchemy as sa
import cbt.db


revision = '0005_cohorts'
down_revision = '0002_courses_learning'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cohorts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('trainer_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('created_at', cbt.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_archived', sa.Boolean(), nullable=False),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_cohorts_dates_ordered')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_cohorts_site_id_sites')),
    sa.ForeignKeyConstraint(['trainer_id'], ['users.id'], name=op.f('fk_cohorts_trainer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts')),
    sa.UniqueConstraint('uuid', name=op.f('uq_cohorts_uuid'))
    )
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohorts_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohorts_trainer_id'), ['trainer_id'], unique=False)

    op.create_table('cohort_courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('assigned_at', cbt.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_courses_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_cohort_courses_course_id_courses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_courses')),
    sa.UniqueConstraint('cohort_id', 'course_id', name=op.f('uq_cohort_courses_cohort_id_course_id'))
    )
    with op.batch_alter_table('cohort_courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_courses_course_id'), ['course_id'], unique=False)

    op.create_table('cohort_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', cbt.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_members_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cohort_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_members')),
    sa.UniqueConstraint('cohort_id', 'user_id', name=op.f('uq_cohort_members_cohort_id_user_id'))
    )
    with op.batch_alter_table('cohort_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_members_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cohort_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_members_user_id'))

    op.drop_table('cohort_members')
    with op.batch_alter_table('cohort_courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_courses_course_id'))

    op.drop_table('cohort_courses')
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohorts_trainer_id'))
        batch_op.drop_index(batch_op.f('ix_cohorts_site_id'))

    op.drop_table('cohorts')
