"""The branch of the tables WhatsApp and telephony added beside the branches: calls, the self-service line's
calls, cadres' WhatsApp opens, WhatsApp conversations and their media get the branches' foreign key (filled
from their family, else the installation's first branch); WhatsApp contents become a branch setting (a kind
once per branch and once for the installation); consents lose their branch: opt-outs are national (one data
controller under UU PDP).

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 09:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

FIRST = "(SELECT id FROM branches WHERE code = '0000')"
#: (table, may the branch be NULL: rows from an unknown number, how the family is found).
OWNED = (
    ("calls", False, "family_id"),
    ("cadre_whatsapp_opens", False, "family_id"),
    ("line_calls", True, "family_id"),
    ("whatsapp_conversations", True, "family_id"),
    ("inbound_media", True, None),
)


def upgrade():
    # A photo belongs where the message that carried it does.
    op.execute(
        "UPDATE inbound_media SET branch_id = (SELECT m.branch_id FROM inbound_sms m WHERE m.id = inbound_media.inbound_id)"
    )
    for table, optional, family_column in OWNED:
        if family_column:
            op.execute(
                f"UPDATE {table} SET branch_id = (SELECT families.branch_id FROM families"
                f" WHERE families.id = {table}.{family_column}) WHERE {family_column} IS NOT NULL"
            )
        if not optional:
            op.execute(f"UPDATE {table} SET branch_id = {FIRST} WHERE branch_id IS NULL")
        with op.batch_alter_table(table, schema=None) as batch_op:
            if not optional:
                batch_op.alter_column("branch_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(op.f(f"fk_{table}_branch_id_branches"), "branches", ["branch_id"], ["id"])
            batch_op.create_index(op.f(f"ix_{table}_branch_id"), ["branch_id"], unique=False)

    with op.batch_alter_table("whatsapp_contents", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_whatsapp_contents_kind"), type_="unique")
        batch_op.create_foreign_key(op.f("fk_whatsapp_contents_branch_id_branches"), "branches", ["branch_id"], ["id"])
    op.create_index(
        "uq_whatsapp_contents_kind_installation",
        "whatsapp_contents",
        ["kind"],
        unique=True,
        sqlite_where=sa.text("branch_id IS NULL"),
        postgresql_where=sa.text("branch_id IS NULL"),
    )
    op.create_index(
        "uq_whatsapp_contents_branch_kind",
        "whatsapp_contents",
        ["branch_id", "kind"],
        unique=True,
        sqlite_where=sa.text("branch_id IS NOT NULL"),
        postgresql_where=sa.text("branch_id IS NOT NULL"),
    )

    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_column("branch_id")


def downgrade():
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("branch_id", sa.Integer(), nullable=True))
    op.drop_index("uq_whatsapp_contents_branch_kind", table_name="whatsapp_contents")
    op.drop_index("uq_whatsapp_contents_kind_installation", table_name="whatsapp_contents")
    op.execute("DELETE FROM whatsapp_contents WHERE branch_id IS NOT NULL")
    with op.batch_alter_table("whatsapp_contents", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_whatsapp_contents_branch_id_branches"), type_="foreignkey")
        batch_op.create_unique_constraint(op.f("uq_whatsapp_contents_kind"), ["kind"])
    for table, optional, _family_column in reversed(OWNED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(op.f(f"ix_{table}_branch_id"))
            batch_op.drop_constraint(op.f(f"fk_{table}_branch_id_branches"), type_="foreignkey")
            if not optional:
                batch_op.alter_column("branch_id", existing_type=sa.Integer(), nullable=True)
