"""SMS attempts recorded before the call to Twilio: a reference and the time the call began

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 05:10:00

A dispatcher commits `attempt_ref` and `attempt_at` before it calls Twilio, so
a call whose answer never came back (a read timeout, a dispatcher killed
mid-send) is reconciled with Twilio's list of messages instead of being sent
again. The status `unknown` (a message the reconciliation could not settle)
needs no schema change: the status is a VARCHAR(12) without a CHECK.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt_ref", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_sms_messages_attempt_ref"), ["attempt_ref"])


def downgrade():
    op.execute("UPDATE sms_messages SET status = 'held' WHERE status = 'unknown'")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_sms_messages_attempt_ref"), type_="unique")
        batch_op.drop_column("attempt_at")
        batch_op.drop_column("attempt_ref")
