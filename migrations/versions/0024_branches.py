"""Branches and deputy regions as data; every row of participant data carries its branch

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 08:00:00

The installation had one branch. This migration creates it as branch "0000" with an empty name
and no zone, which mean the installation's BRANCH_NAME and BRANCH_TIMEZONE (so nothing changes
for an installation that keeps one branch: rename it with `flask branches edit 0000 ...`), and
gives it every existing row and user. Existing admins become installation administrators.
The placeholders of 0010/0011 (message templates, reminder settings, holidays, contact settings)
get their foreign key and a unique key per branch.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

#: Tables whose every row belongs to a branch: (table, indexed).
OWNED = (
    ("families", True),
    ("participants", True),
    ("arrears_snapshots", False),
    ("work_items", True),
    ("handouts", False),
    ("contact_attempts", True),
    ("promises", True),
    ("payments", True),
    ("installment_plans", True),
    ("installments", False),
    ("sms_messages", True),
    ("sms_events", False),
    ("import_runs", True),
)
#: Tables whose rows may belong to no branch (NULL): (table, indexed).
OPTIONAL = (("inbound_sms", True), ("audit_events", True))
#: The placeholders of 0010/0011, their column unique per branch (None: contact_settings, one row per branch).
PLACEHOLDERS = (("message_templates", "key"), ("reminder_settings", "kind"), ("holidays", "on"), ("contact_settings", None))


def upgrade():
    op.create_table(
        "deputy_regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deputy_regions")),
        sa.UniqueConstraint("code", name=op.f("uq_deputy_regions_code")),
        sa.UniqueConstraint("name", name=op.f("uq_deputy_regions_name")),
    )
    op.create_table(
        "branches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("zone", sa.String(length=4), nullable=True),
        sa.Column("deputy_region_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("settings", sa.Text(), server_default="{}", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("zone IS NULL OR zone IN ('WIB', 'WITA', 'WIT')", name=op.f("ck_branches_zone_known")),
        sa.ForeignKeyConstraint(
            ["deputy_region_id"], ["deputy_regions.id"], name=op.f("fk_branches_deputy_region_id_deputy_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branches")),
        sa.UniqueConstraint("code", name=op.f("uq_branches_code")),
    )
    op.create_index(op.f("ix_branches_deputy_region_id"), "branches", ["deputy_region_id"], unique=False)
    branches = sa.table(
        "branches", sa.column("code"), sa.column("name"), sa.column("settings"), sa.column("is_active"),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        branches.insert().values(
            code="0000", name="", settings="{}", is_active=True, created_at=sa.func.current_timestamp()
        )
    )
    first = "(SELECT id FROM branches WHERE code = '0000')"

    for table, _indexed in OWNED + OPTIONAL:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("branch_id", sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET branch_id = {first}")
    for table, indexed in OWNED + OPTIONAL:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if (table, indexed) in OWNED:
                batch_op.alter_column("branch_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(op.f(f"fk_{table}_branch_id_branches"), "branches", ["branch_id"], ["id"])
            if indexed:
                batch_op.create_index(op.f(f"ix_{table}_branch_id"), ["branch_id"], unique=False)

    for table, column in PLACEHOLDERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if column is not None:
                batch_op.drop_constraint(op.f(f"uq_{table}_{column}"), type_="unique")
            batch_op.create_foreign_key(op.f(f"fk_{table}_branch_id_branches"), "branches", ["branch_id"], ["id"])
        if column is not None:
            op.create_index(
                f"uq_{table}_{column}_installation",
                table,
                [column],
                unique=True,
                sqlite_where=sa.text("branch_id IS NULL"),
                postgresql_where=sa.text("branch_id IS NULL"),
            )
            op.create_index(
                f"uq_{table}_branch_{column}",
                table,
                ["branch_id", column],
                unique=True,
                sqlite_where=sa.text("branch_id IS NOT NULL"),
                postgresql_where=sa.text("branch_id IS NOT NULL"),
            )
        else:
            op.create_index(
                f"uq_{table}_branch_id",
                table,
                ["branch_id"],
                unique=True,
                sqlite_where=sa.text("branch_id IS NOT NULL"),
                postgresql_where=sa.text("branch_id IS NOT NULL"),
            )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("branch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deputy_region_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("is_installation_admin", sa.Boolean(), server_default="0", nullable=False))
    op.execute(f"UPDATE users SET branch_id = {first}")
    op.execute(sa.text("UPDATE users SET is_installation_admin = :yes WHERE role = 'admin'").bindparams(yes=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_foreign_key(op.f("fk_users_branch_id_branches"), "branches", ["branch_id"], ["id"])
        batch_op.create_foreign_key(
            op.f("fk_users_deputy_region_id_deputy_regions"), "deputy_regions", ["deputy_region_id"], ["id"]
        )
        batch_op.create_index(op.f("ix_users_branch_id"), ["branch_id"], unique=False)
        batch_op.create_check_constraint(
            op.f("ck_users_deputy_only_regional"),
            "role IN ('regional_supervisor', 'national_viewer') OR deputy_region_id IS NULL",
        )
        batch_op.create_check_constraint(
            op.f("ck_users_regional_has_deputy"), "role <> 'regional_supervisor' OR deputy_region_id IS NOT NULL"
        )
        batch_op.create_check_constraint(
            op.f("ck_users_readers_no_branch"), "role NOT IN ('regional_supervisor', 'national_viewer') OR branch_id IS NULL"
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_readers_no_branch"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_regional_has_deputy"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_deputy_only_regional"), type_="check")
        batch_op.drop_index(op.f("ix_users_branch_id"))
        batch_op.drop_constraint(op.f("fk_users_deputy_region_id_deputy_regions"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_users_branch_id_branches"), type_="foreignkey")
        batch_op.drop_column("is_installation_admin")
        batch_op.drop_column("deputy_region_id")
        batch_op.drop_column("branch_id")
    for table, column in reversed(PLACEHOLDERS):
        if column is not None:
            op.drop_index(f"uq_{table}_branch_{column}", table_name=table)
            op.drop_index(f"uq_{table}_{column}_installation", table_name=table)
        else:
            op.drop_index(f"uq_{table}_branch_id", table_name=table)
        # Each branch's own rows go: the installation's were the only ones before.
        op.execute(f"DELETE FROM {table} WHERE branch_id IS NOT NULL")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"fk_{table}_branch_id_branches"), type_="foreignkey")
            if column is not None:
                batch_op.create_unique_constraint(op.f(f"uq_{table}_{column}"), [column])
    for table, indexed in reversed(OWNED + OPTIONAL):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if indexed:
                batch_op.drop_index(op.f(f"ix_{table}_branch_id"))
            batch_op.drop_constraint(op.f(f"fk_{table}_branch_id_branches"), type_="foreignkey")
            batch_op.drop_column("branch_id")
    op.drop_index(op.f("ix_branches_deputy_region_id"), table_name="branches")
    op.drop_table("branches")
    op.drop_table("deputy_regions")
