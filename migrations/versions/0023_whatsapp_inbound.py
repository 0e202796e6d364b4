"""Inbound WhatsApp: the channel of each participant's message, their media as links, and conversations

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 08:30:00

`inbound_sms` gets a `channel` (every existing row came by SMS). `inbound_media` keeps Twilio's links to
the photos and files participants send (KTP, family card), deleted after RETENTION_WHATSAPP_MEDIA_DAYS.
`whatsapp_conversations` is one row per number that wrote something other than a keyword, with its unread
state, for the inbox.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbound_sms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=8), server_default="sms", nullable=False))
    op.create_table(
        "inbound_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbound_id"], ["inbound_sms.id"], name=op.f("fk_inbound_media_inbound_id_inbound_sms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_media")),
    )
    with op.batch_alter_table("inbound_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_media_inbound_id"), ["inbound_id"], unique=False)
    op.create_table(
        "whatsapp_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unread", sa.Integer(), server_default="0", nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by_id", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"], ["families.id"], name=op.f("fk_whatsapp_conversations_family_id_families")
        ),
        sa.ForeignKeyConstraint(["read_by_id"], ["users.id"], name=op.f("fk_whatsapp_conversations_read_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_conversations")),
        sa.UniqueConstraint("phone", name=op.f("uq_whatsapp_conversations_phone")),
    )
    with op.batch_alter_table("whatsapp_conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatsapp_conversations_family_id"), ["family_id"], unique=False)
        batch_op.create_index("ix_whatsapp_conversations_last", ["last_message_at"], unique=False)


def downgrade():
    with op.batch_alter_table("whatsapp_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_conversations_last")
        batch_op.drop_index(batch_op.f("ix_whatsapp_conversations_family_id"))
    op.drop_table("whatsapp_conversations")
    with op.batch_alter_table("inbound_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_media_inbound_id"))
    op.drop_table("inbound_media")
    op.execute("DELETE FROM inbound_sms WHERE channel = 'whatsapp'")
    with op.batch_alter_table("inbound_sms", schema=None) as batch_op:
        batch_op.drop_column("channel")
