"""sign-in throttling: failed sign-ins per username and client address

Revision ID: 0004_signin_throttle
Revises: 0003_admin_reporting
Create Date: 2026-11-22 12:00:00

Written by hand. Rows live at most one throttling window (pruned by the application), so the table stays
small; the two composite indexes serve the per-account and per-address counts, the single one pruning.
"""

from alembic import op
import sqlalchemy as sa
import cbt.db


revision = '0004_signin_throttle'
down_revision = '0003_admin_reporting'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('created_at', cbt.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_failures_username_client_address_created_at',
                              ['username', 'client_address', 'created_at'], unique=False)
        batch_op.create_index('ix_sign_in_failures_client_address_created_at',
                              ['client_address', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failures_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_failures_created_at'))
        batch_op.drop_index('ix_sign_in_failures_client_address_created_at')
        batch_op.drop_index('ix_sign_in_failures_username_client_address_created_at')

    op.drop_table('sign_in_failures')
