"""Handouts: assignments and unassignments from the queue page, recorded so the latest can be undone

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "handouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("queue", sa.String(length=12), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["undone_by_id"], ["users.id"], name=op.f("fk_handouts_undone_by_id_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_handouts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handouts")),
    )


def downgrade():
    op.drop_table("handouts")
