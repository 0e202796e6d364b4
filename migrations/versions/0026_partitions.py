"""Monthly partitions of contact attempts, SMS events, arrears snapshots and audit events (PostgreSQL);
indexes led by branch

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30 08:10:00

PostgreSQL only (SQLite keeps its plain tables): each of the four history tables becomes a table
partitioned by RANGE of its month (`at`, a UTC timestamp; arrears snapshots by `as_of`), with a
partition per month that has rows, the current month and the next three, and a DEFAULT partition
(telecollect/partitions.py explains the rules; the scheduler's monthly job and `flask db partitions`
create the months ahead). The rows are copied into the new table, which takes the old one's name,
sequence, indexes, checks and foreign keys.

What a partitioned table cannot hold:
- the primary key becomes (id, key);
- contact attempts' unique (user_id, client_ref) becomes the plain index ix_contact_attempts_user_client_ref
  (the outcome's advisory lock keeps one client_ref recorded once);
- the foreign keys promises.attempt_id, payments.attributed_attempt_id and calls.attempt_id become triggers: the row must
  name an existing attempt (locked FOR KEY SHARE, like a foreign key), and an attempt still named cannot be
  deleted (a constraint trigger checked at commit, so that a row moved between partitions is no deletion).

On both engines: indexes led by branch for what filters by branch (the funnel's attempts, promises and
payments of a branch-month, a branch's claims).
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

#: table → partition key (as in telecollect.partitions.PARTITIONED; a migration keeps its own copy).
PARTITIONED = {
    "contact_attempts": "at",
    "sms_events": "at",
    "arrears_snapshots": "as_of",
    "audit_events": "at",
}
MONTHS_AHEAD = 3
#: Foreign keys that point at contact_attempts.id: (table, column, constraint name).
ATTEMPT_REFERENCES = (
    ("promises", "attempt_id", "fk_promises_attempt_id_contact_attempts"),
    ("payments", "attributed_attempt_id", "fk_payments_attributed_attempt_id_contact_attempts"),
    ("calls", "attempt_id", "fk_calls_attempt_id_contact_attempts"),
)
#: Unique keys without the partition key: name → (table, columns, the plain index that replaces it).
UNIQUE_WITHOUT_KEY = {
    "uq_contact_attempts_user_id_client_ref": ("contact_attempts", "user_id, client_ref", "ix_contact_attempts_user_client_ref"),
}
#: (table, index, columns, partial condition) on both engines.
BRANCH_INDEXES = (
    ("contact_attempts", "ix_contact_attempts_branch_at", ["branch_id", "at"], None),
    ("promises", "ix_promises_branch_made_on", ["branch_id", "made_on"], None),
    ("promises", "ix_promises_branch_promised_on", ["branch_id", "promised_on"], None),
    ("payments", "ix_payments_branch_paid_on", ["branch_id", "paid_on"], None),
    (
        "work_items",
        "ix_work_items_branch_claim_order",
        ["branch_id", "queue", "follow_up", "priority", "next_action_at", "id"],
        "state != 'closed'",
    ),
)
#: Single-column branch indexes the (branch_id, …) indexes above make redundant.
REPLACED_BRANCH_INDEXES = (("contact_attempts", "ix_contact_attempts_branch_id", ["branch_id"]),)

CHECK_ATTEMPT = """
CREATE FUNCTION tc_attempt_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    attempt integer;
BEGIN
    EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) USING NEW INTO attempt;
    IF attempt IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM contact_attempts WHERE id = attempt FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key "%"', TG_TABLE_NAME, TG_NAME
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (%s)=(%s) is not present in table "contact_attempts".', TG_ARGV[0], attempt);
    END IF;
    RETURN NULL;
END $$
"""
ATTEMPT_STILL_NAMED = """
CREATE FUNCTION tc_attempt_still_named() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM contact_attempts WHERE id = OLD.id) THEN
        RETURN NULL;  -- moved to another partition, not deleted
    END IF;
    IF EXISTS (SELECT 1 FROM promises WHERE attempt_id = OLD.id)
       OR EXISTS (SELECT 1 FROM payments WHERE attributed_attempt_id = OLD.id)
       OR EXISTS (SELECT 1 FROM calls WHERE attempt_id = OLD.id) THEN
        RAISE EXCEPTION 'delete on table "contact_attempts" violates foreign key "%"', TG_NAME
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (id)=(%s) is still referenced by a promise, a payment or a call.', OLD.id);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade():
    for table, index, columns, where in BRANCH_INDEXES:
        condition = {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)} if where else {}
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_index(index, columns, unique=False, **condition)
    for table, index, _columns in REPLACED_BRANCH_INDEXES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(index)
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _column, name in ATTEMPT_REFERENCES:
        op.drop_constraint(name, table, type_="foreignkey")
    for table, key in PARTITIONED.items():
        _partition(table, key)
    op.execute(CHECK_ATTEMPT)
    op.execute(ATTEMPT_STILL_NAMED)
    for table, column, name in ATTEMPT_REFERENCES:
        op.execute(
            f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OF {column} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION tc_attempt_exists('{column}')"
        )
    op.execute(
        "CREATE CONSTRAINT TRIGGER tc_attempts_still_named AFTER DELETE ON contact_attempts "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tc_attempt_still_named()"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tc_attempts_still_named ON contact_attempts")
        for table, _column, name in ATTEMPT_REFERENCES:
            op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute("DROP FUNCTION tc_attempt_still_named()")
        op.execute("DROP FUNCTION tc_attempt_exists()")
        for table, key in PARTITIONED.items():
            _unpartition(table, key)
        for table, column, name in ATTEMPT_REFERENCES:
            op.create_foreign_key(name, table, "contact_attempts", [column], ["id"])
    for table, index, columns in REPLACED_BRANCH_INDEXES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_index(index, columns, unique=False)
    for table, index, _columns, where in reversed(BRANCH_INDEXES):
        condition = {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)} if where else {}
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(index, **condition)


# --- PostgreSQL: rebuild a table as partitioned, and back ------------------------------------------


def _definitions(table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The table's indexes (CREATE INDEX statements, the primary key's and unique keys' excluded) and
    its foreign keys and unique keys ((name, definition)), read from the catalog before it goes."""
    bind = op.get_bind()
    indexes = bind.execute(
        sa.text(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = to_regclass(:t) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype = 'u') "
            "ORDER BY 1"
        ),
        {"t": f"public.{table}"},
    ).scalars()
    constraints = bind.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:t) AND contype IN ('f', 'u') ORDER BY conname"
        ),
        {"t": f"public.{table}"},
    ).all()
    # Indexes of a partitioned table read "ON ONLY"; recreated on a table they cover its partitions.
    return [sql.replace(" ON ONLY ", " ON ") for sql in indexes], [(name, sql) for name, sql in constraints]


def _month(key: str) -> str:
    return f"date_trunc('month', {key} AT TIME ZONE 'UTC')::date" if key == "at" else f"date_trunc('month', {key})::date"


def _bound(key: str, month) -> str:
    return f"'{month.isoformat()} 00:00:00+00'" if key == "at" else f"'{month.isoformat()}'"


def _next_month(month):
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def _partition(table: str, key: str) -> None:
    from datetime import UTC, datetime

    bind = op.get_bind()
    indexes, constraints = _definitions(table)
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned")
    op.execute(
        f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        f"PARTITION BY RANGE ({key})"
    )
    months = set(bind.execute(sa.text(f"SELECT DISTINCT {_month(key)} FROM {table}_unpartitioned")).scalars())
    month = datetime.now(UTC).date().replace(day=1)
    for _ in range(MONTHS_AHEAD + 1):
        months.add(month)
        month = _next_month(month)
    for month in sorted(months):
        op.execute(
            f"CREATE TABLE {table}_{month:%Y_%m} PARTITION OF {table} "
            f"FOR VALUES FROM ({_bound(key, month)}) TO ({_bound(key, _next_month(month))})"
        )
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned")
    op.execute(f"DROP TABLE {table}_unpartitioned")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id, {key})")
    for sql in indexes:
        op.execute(sql)
    for name, definition in constraints:
        if name in UNIQUE_WITHOUT_KEY:
            _table, columns, index = UNIQUE_WITHOUT_KEY[name]
            op.execute(f"CREATE INDEX {index} ON {table} ({columns})")
        else:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def _unpartition(table: str, key: str) -> None:
    indexes, constraints = _definitions(table)
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_partitioned")
    op.execute(f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_partitioned")
    op.execute(f"DROP TABLE {table}_partitioned")  # and its partitions
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
    replaced = {index: (name, columns) for name, (_t, columns, index) in UNIQUE_WITHOUT_KEY.items()}
    for sql in indexes:
        index = sql.split()[2]
        if index in replaced:
            name, columns = replaced[index]
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({columns})")
        else:
            op.execute(sql)
    for name, definition in constraints:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
