"""At most one running attempt per trainee and quiz (a partial unique index).

Two servers (or two tabs) starting the same quiz at the same moment must resume one attempt, not open two.

Revision ID: 0008_one_running_attempt
Revises: 0007_merge_features
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_one_running_attempt"
down_revision = "0007_merge_features"
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'in_progress'")


def upgrade() -> None:
    # Attempts left running twice by the race this index prevents: keep the newest, finish the others.
    op.execute(
        "UPDATE attempts SET status = 'expired', submitted_at = started_at "
        "WHERE status = 'in_progress' AND id NOT IN "
        "(SELECT max(id) FROM attempts WHERE status = 'in_progress' GROUP BY user_id, quiz_id)"
    )
    op.create_index("uq_attempts_one_running", "attempts", ["user_id", "quiz_id"], unique=True,
                    sqlite_where=RUNNING, postgresql_where=RUNNING)


def downgrade() -> None:
    op.drop_index("uq_attempts_one_running", table_name="attempts")
