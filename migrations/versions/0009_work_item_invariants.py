"""Work items: impossible states made impossible (closed with reason and time, a claim with its lease)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 04:00:00

Rows written before this revision are brought in line first: a claim without
its lease (or a lease without its claim) is cleared, and a closed item without
its time takes its creation time.
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CLOSED = ("(state = 'closed' AND close_reason IS NOT NULL AND closed_at IS NOT NULL) OR "
          "(state != 'closed' AND close_reason IS NULL AND closed_at IS NULL)")
CLAIMED = ("(claimed_by_id IS NULL AND lease_expires_at IS NULL) OR "
           "(claimed_by_id IS NOT NULL AND lease_expires_at IS NOT NULL)")


def upgrade():
    op.execute("UPDATE work_items SET claimed_by_id = NULL, lease_expires_at = NULL "
               "WHERE claimed_by_id IS NULL OR lease_expires_at IS NULL")
    op.execute("UPDATE work_items SET closed_at = created_at WHERE state = 'closed' AND closed_at IS NULL")
    op.execute("UPDATE work_items SET close_reason = NULL, closed_at = NULL WHERE state != 'closed'")
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_check_constraint('closed_with_reason', CLOSED)
        batch_op.create_check_constraint('claim_with_lease', CLAIMED)


def downgrade():
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_constraint('closed_with_reason', type_='check')
        batch_op.drop_constraint('claim_with_lease', type_='check')
