"""Send buckets per sender: a bucket's name is its channel and sender ("sms:+62411800165"), up to 80 characters

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30 19:00:00

Before, one bucket per channel ("sms", "whatsapp") paced every branch together, also branches sending from
senders of their own. The old buckets are emptied: a bucket holds at most one second's tokens, so nothing is
lost that a second does not give back.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM send_buckets")
    with op.batch_alter_table("send_buckets") as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=40), type_=sa.String(length=80))


def downgrade():
    op.execute("DELETE FROM send_buckets")
    with op.batch_alter_table("send_buckets") as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=80), type_=sa.String(length=40))
