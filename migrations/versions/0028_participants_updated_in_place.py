"""Participants and families rewritten in place: no index holds a member's arrears, pages half filled

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-30 23:00:00

Every import rewrites most members' arrears (a payment file, the monthly arrears list) and most paying
families' credit. The place indexes (city, kecamatan, kelurahan) held the arrears amount too, so each
rewritten member went into all nine of the table's indexes. They now hold the place alone, and on PostgreSQL
both tables keep half of each page free (fillfactor 50) for rows rewritten in place (HOT updates, no index
touched). The fillfactor applies to pages written from now on; `VACUUM FULL participants, families` (or
pg_repack) in a quiet hour gives the pages written before it their room too.
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

PLACES = ("city", "district", "village")


def upgrade():
    for place in PLACES:
        op.drop_index(f"ix_participants_{place}_amount", table_name="participants")
        op.create_index(f"ix_participants_{place}_id", "participants", [f"{place}_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE participants SET (fillfactor = 50)")
        op.execute("ALTER TABLE families SET (fillfactor = 50)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE families RESET (fillfactor)")
        op.execute("ALTER TABLE participants RESET (fillfactor)")
    for place in PLACES:
        op.drop_index(f"ix_participants_{place}_id", table_name="participants")
        op.create_index(f"ix_participants_{place}_amount", "participants", [f"{place}_id", "arrears_amount"])
