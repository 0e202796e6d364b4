"""SQLite's planner statistics, for databases that have none

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-01 01:00:00

Every read scoped to a branch names two indexed columns (`family_id = ?` and `branch_id = ?`). Knowing
nothing of a table, SQLite took the branch's index, and one family's members or work meant reading every
row of the branch. Kept imports now refresh the statistics (`db.refresh_planner_statistics`); this gives
them at once to a database made before, without waiting for its next import. A sampled ANALYZE: about
15 ms for a million participants. PostgreSQL keeps its own (autovacuum).
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit = 400")
        op.execute("ANALYZE")


def downgrade():
    pass  # statistics are not schema: nothing to take back
