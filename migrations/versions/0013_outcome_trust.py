"""Contacts recorded outside the contact policy are flagged; one active REHAB plan per family

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contact_attempts") as batch:
        batch.add_column(sa.Column("outside_policy", sa.String(length=20), nullable=True))
    # Before the index: a family that already has two active plans keeps the newest one active; the
    # older ones are marked broken (they were registered twice at once, and only one is paid on).
    op.execute(
        """
        UPDATE installment_plans SET state = 'broken'
        WHERE state = 'active' AND id < (
            SELECT MAX(newer.id) FROM installment_plans AS newer
            WHERE newer.family_id = installment_plans.family_id AND newer.state = 'active'
        )
        """
    )
    op.create_index(
        "uq_installment_plans_active_family",
        "installment_plans",
        ["family_id"],
        unique=True,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )


def downgrade():
    op.drop_index("uq_installment_plans_active_family", table_name="installment_plans")
    with op.batch_alter_table("contact_attempts") as batch:
        batch.drop_column("outside_policy")
