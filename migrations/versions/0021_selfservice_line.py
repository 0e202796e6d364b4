"""The self-service line: one row per call (caller kept as an HMAC, the family when the number names one)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "line_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("twilio_sid", sa.String(length=64), nullable=False),
        sa.Column("caller_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("families_matched", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_verified", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("verify_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("choices", sa.String(length=60), server_default="", nullable=False),
        sa.Column("disclosed", sa.String(length=60), server_default="", nullable=False),
        sa.Column("is_callback_requested", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("verify_failures >= 0", name=op.f("ck_line_calls_failures_not_negative")),
        sa.CheckConstraint("NOT is_verified OR family_id IS NOT NULL", name=op.f("ck_line_calls_verified_with_family")),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"], name=op.f("fk_line_calls_family_id_families")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_calls")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_line_calls_twilio_sid")),
    )
    op.create_index("ix_line_calls_family", "line_calls", ["family_id", "started_at"])
    op.create_index("ix_line_calls_caller_started", "line_calls", ["caller_hash", "started_at"])


def downgrade():
    op.drop_index("ix_line_calls_caller_started", table_name="line_calls")
    op.drop_index("ix_line_calls_family", table_name="line_calls")
    op.drop_table("line_calls")
