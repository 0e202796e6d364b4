"""Contacts recorded outside the contact policy are flagged

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


def downgrade():
    with op.batch_alter_table("contact_attempts") as batch:
        batch.drop_column("outside_policy")
