"""Contact settings as a row a supervisor edits (calling hours and days, caps, cuti bersama)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 04:30:00

Without a row the environment's defaults apply, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contact_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("calling_hours", sa.String(length=11), nullable=False),
        sa.Column("calling_days", sa.String(length=40), nullable=False),
        sa.Column("max_attempts_per_day", sa.Integer(), nullable=False),
        sa.Column("max_attempts_per_week", sa.Integer(), nullable=False),
        sa.Column("is_cuti_bersama_closed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "max_attempts_per_day BETWEEN 1 AND 20", name=op.f("ck_contact_settings_per_day_range")
        ),
        sa.CheckConstraint(
            "max_attempts_per_week BETWEEN 1 AND 100", name=op.f("ck_contact_settings_per_week_range")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_contact_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_settings")),
    )


def downgrade():
    op.drop_table("contact_settings")
