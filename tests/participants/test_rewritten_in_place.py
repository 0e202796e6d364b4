"""The tables every import rewrites are laid out so that PostgreSQL can rewrite their rows in place.

A row whose indexed columns keep their values is updated on its own page with no index touched (a HOT
update), if the page has room. A payment file rewrites nearly every paying member's arrears and family's
credit, an arrears list every member's figures: the schema keeps those columns out of every index, and on
PostgreSQL leaves half of each page free (measured in bench/payments.py: 56 s to 8 s for 933,000 members).
"""

import pytest
from sqlalchemy import inspect, text

#: The columns the imports rewrite on most rows (payments.services._Scratch, participants.services).
REWRITTEN = {
    "participants": {"months_in_arrears", "arrears_amount", "arrears_as_of", "updated_at"},
    "families": {"credit", "reactivated_on"},
}


@pytest.mark.parametrize("table", sorted(REWRITTEN))
def test_no_index_holds_a_column_the_imports_rewrite(db, table):
    indexes = inspect(db.engine).get_indexes(table)
    assert indexes  # the inspection sees the table's indexes at all
    held = {index["name"]: REWRITTEN[table] & set(index["column_names"]) for index in indexes}
    assert {name: columns for name, columns in held.items() if columns} == {}


@pytest.mark.parametrize("table", sorted(REWRITTEN))
def test_pages_keep_room_for_rows_rewritten_in_place(db, table):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a page's fill factor is PostgreSQL's")
    with db.engine.connect() as connection:
        options = connection.scalar(text("SELECT reloptions FROM pg_class WHERE relname = :table"), {"table": table})
    assert options == ["fillfactor=50"]
