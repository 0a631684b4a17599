"""Merge the feature branches (admin and sign-in throttling, cohorts, authoring) into one head.

Revision ID: 0007_merge_features
Revises: 0004_signin_throttle, 0005_cohorts, 0006_authoring
Create Date: 2026-11-22
"""

revision = "0007_merge_features"
down_revision = ("0004_signin_throttle", "0005_cohorts", "0006_authoring")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
