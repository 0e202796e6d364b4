"""Places by code, names as labels; a second phone number

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:20:00

Two villages of one kecamatan may share a name (Waena 91.71.05.1002 and
91.71.05.2005): the name is unique within its parent only for places that
have no code. Name keys are folded again by today's rule (it now drops
"Kec."/"Kel."/"Desa" and "Adm." and writes out "Kep."), so places created from
"Kec. Koja" and "Koja" are found as one.
"""
import sqlalchemy as sa
from alembic import op

from telecollect.regions.names import name_key

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_PLACES = (("cities", "province_id"), ("districts", "city_id"), ("villages", "district_id"))


def upgrade():
    for table, parent in _PLACES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_{parent}_name_key", type_="unique")
        _refold(table, parent)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_{parent}_name_key", [parent, "name_key"], unique=False)
            batch_op.create_index(f"uq_{table}_{parent}_name_key_uncoded", [parent, "name_key"], unique=True,
                                  sqlite_where=sa.text("code IS NULL"), postgresql_where=sa.text("code IS NULL"))
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone2', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('phone2')
    for table, parent in _PLACES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"uq_{table}_{parent}_name_key_uncoded")
            batch_op.drop_index(f"ix_{table}_{parent}_name_key")
            # Fails, as it should, where coded places of one parent share a name: the old
            # schema cannot hold them.
            batch_op.create_unique_constraint(f"uq_{table}_{parent}_name_key", [parent, "name_key"])


def _refold(table: str, parent: str) -> None:
    """New keys by today's fold; a place without a code whose new key another such place of its
    parent already has keeps its old key (merging them would move participants: a person's call)."""
    connection = op.get_bind()
    places = sa.table(table, sa.column("id", sa.Integer), sa.column("name", sa.String),
                      sa.column("name_key", sa.String), sa.column("code", sa.String), sa.column(parent, sa.Integer))
    rows = connection.execute(sa.select(places.c.id, places.c.name, places.c.name_key, places.c.code,
                                        places.c[parent]).order_by(places.c.id)).all()
    taken = {(row[4], row[2]) for row in rows if row[3] is None}
    changes = []
    for id_, name, key, code, parent_id in rows:
        new_key = name_key(name)
        if new_key == key:
            continue
        if code is None:
            if (parent_id, new_key) in taken:
                continue
            taken.discard((parent_id, key))
            taken.add((parent_id, new_key))
        changes.append({"place_id": id_, "key": new_key})
    if changes:
        connection.execute(places.update().where(places.c.id == sa.bindparam("place_id"))
                           .values(name_key=sa.bindparam("key")), changes)
