"""Branch ids on the rows a branch will override: message templates, reminder settings, holidays

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:00:00

Each table a person edits at run time, and that a branch will later override,
gets a nullable `branch_id`: NULL is the installation's row (every row today).
There is no branches table yet; the issue that adds it adds the foreign keys
and widens the unique keys to (branch_id, …).
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ('message_templates', 'reminder_settings', 'holidays')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('branch_id', sa.Integer(), nullable=True))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('branch_id')
