"""Cadre-list index: a cadre's page of the most urgent families is read in priority order

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 05:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index('ix_work_items_cadre_list', ['queue', 'priority', 'id'], unique=False, sqlite_where=sa.text("state != 'closed'"), postgresql_where=sa.text("state != 'closed'"))


def downgrade():
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_cadre_list', sqlite_where=sa.text("state != 'closed'"), postgresql_where=sa.text("state != 'closed'"))
