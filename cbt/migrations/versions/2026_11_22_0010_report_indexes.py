"""Report standings kept by triggers, and their filter indexes (report speed at 200,000 attempts).

``report_standings`` holds one row per enrolment with every figure and filter column the reports need;
``report_stale`` lists the (trainee, course) pairs to recompute, filled by triggers on ``attempts`` and
``lesson_progress`` (keyed by course version), ``enrollments`` and ``course_completions`` (keyed by course)
and ``users`` (a new site or agency makes all of the trainee's pairs stale). SQLite gets plain triggers,
PostgreSQL one PL/pgSQL function per table (the SQL is in ``cbt/reports/triggers.py``). Existing enrolments
are marked stale, so the first report after the upgrade computes every standing once. See
``cbt/reports/models.py``.

Revision ID: 0010_report_indexes
Revises: 0009_auth_hardening
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import cbt.db

revision = "0010_report_indexes"
down_revision = "0009_auth_hardening"
branch_labels = None
depends_on = None

#: A covering index: the dashboard's grouped count reads it alone, in order.
SUMMARY_COLUMNS = ["course_id", "site_id", "agency_id", "enrolled_at", "started_at", "completed_at", "exam_passed_at",
                   "best_exam", "seconds_spent"]


def upgrade() -> None:
    op.create_table(
        "report_standings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("enrolled_at", cbt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", cbt.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", cbt.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exam_passed_at", cbt.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("best_exam", sa.Float(), nullable=True),
        sa.Column("seconds_spent", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_report_standings_agency_id_agencies")),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_report_standings_course_id_courses")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_report_standings_site_id_sites")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_report_standings_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_report_standings")),
    )
    with op.batch_alter_table("report_standings", schema=None) as batch_op:
        for column in ("enrolled_at", "started_at", "completed_at", "exam_passed_at", "site_id", "agency_id"):
            batch_op.create_index(f"ix_report_standings_{column}", [column], unique=False)
        batch_op.create_index("ix_report_standings_summary", SUMMARY_COLUMNS, unique=False)
    op.create_table(
        "report_stale",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_report_stale")),
    )
    # The SQL of the triggers lives with the reports, which also reinstall them if a later migration that
    # rebuilds a table on SQLite (batch mode) drops them; see cbt/reports/triggers.py.
    from cbt.reports import triggers

    triggers.install(op.get_bind())
    # Everything already recorded is stale: the first report computes it.
    op.execute("INSERT INTO report_stale (user_id, course_id, changes) SELECT user_id, course_id, 1 FROM enrollments")


def downgrade() -> None:
    from cbt.reports import triggers

    triggers.drop(op.get_bind())
    op.drop_table("report_stale")
    with op.batch_alter_table("report_standings", schema=None) as batch_op:
        batch_op.drop_index("ix_report_standings_summary")
        for column in ("enrolled_at", "started_at", "completed_at", "exam_passed_at", "site_id", "agency_id"):
            batch_op.drop_index(f"ix_report_standings_{column}")
    op.drop_table("report_standings")
