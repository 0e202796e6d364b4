"""Throttle counters shared by every process (sign-in, NIK search, work-item reads)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "throttle_hits",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_throttle_hits")),
    )


def downgrade():
    op.drop_table("throttle_hits")
