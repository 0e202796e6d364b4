"""WhatsApp through Twilio: a channel on every outbox row, approved templates by Content SID, the channel
order per kind, senders' rate-limit buckets, and one consent ledger grown from the opt-outs

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 08:00:00

`opt_outs` becomes `consents` (the current state per phone and channel, or per family for visits) with its
history in `consent_events`: every opt-out is carried over as an opt-out from source `migrated`, its reason
and time kept. The statuses `read` and the kind `agent_reply` need no schema change (VARCHARs without a
CHECK). Downgrading keeps the opt-outs (an opt-in has no place in the old table and is dropped).
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=8), server_default="sms", nullable=False))
        batch_op.add_column(sa.Column("content_sid", sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column("content_variables", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("fallback_of_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_sms_messages_fallback_of_id"), ["fallback_of_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_sms_messages_fallback_of_id_sms_messages"), "sms_messages", ["fallback_of_id"], ["id"]
        )
    with op.batch_alter_table("reminder_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel_order", sa.String(length=40), server_default="whatsapp,sms", nullable=False)
        )
    op.create_table(
        "whatsapp_contents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("content_sid", sa.String(length=34), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("variables", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=10), server_default="utility", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_whatsapp_contents_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_contents")),
        sa.UniqueConstraint("kind", name=op.f("uq_whatsapp_contents_kind")),
    )
    op.create_table(
        "send_buckets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_send_buckets")),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("family_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(channel = 'visit' AND family_id IS NOT NULL AND phone IS NULL)"
            " OR (channel <> 'visit' AND phone IS NOT NULL AND family_id IS NULL)",
            name=op.f("ck_consents_subject"),
        ),
        sa.ForeignKeyConstraint(["by_user_id"], ["users.id"], name=op.f("fk_consents_by_user_id_users")),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"], name=op.f("fk_consents_family_id_families")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        sa.UniqueConstraint("family_id", "channel", name=op.f("uq_consents_family_id_channel")),
        sa.UniqueConstraint("phone", "channel", name=op.f("uq_consents_phone_channel")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_family_id"), ["family_id"], unique=False)
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_consent_events_consent_id_consents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["by_user_id"], ["users.id"], name=op.f("fk_consent_events_by_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_events_consent_id"), ["consent_id"], unique=False)
    # The opt-outs, carried over (a visit opt-out had no family: it was per number, kept as none).
    op.execute(
        "INSERT INTO consents (phone, channel, state, source, reason, at)"
        " SELECT phone, channel, 'opted_out', 'migrated', reason, created_at FROM opt_outs WHERE channel <> 'visit'"
    )
    op.execute(
        "INSERT INTO consent_events (consent_id, state, source, reason, at)"
        " SELECT id, state, source, reason, at FROM consents"
    )
    op.drop_table("opt_outs")


def downgrade():
    op.create_table(
        "opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
        sa.UniqueConstraint("phone", "channel", name=op.f("uq_opt_outs_phone_channel")),
    )
    op.execute(
        "INSERT INTO opt_outs (phone, channel, reason, created_at)"
        " SELECT phone, channel, reason, at FROM consents"
        " WHERE state = 'opted_out' AND channel IN ('phone', 'sms', 'whatsapp')"
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_events_consent_id"))
    op.drop_table("consent_events")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_family_id"))
    op.drop_table("consents")
    op.drop_table("send_buckets")
    op.drop_table("whatsapp_contents")
    with op.batch_alter_table("reminder_settings", schema=None) as batch_op:
        batch_op.drop_column("channel_order")
    op.execute("UPDATE sms_messages SET status = 'delivered' WHERE status = 'read'")
    op.execute("DELETE FROM sms_messages WHERE channel = 'whatsapp'")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sms_messages_fallback_of_id_sms_messages"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_sms_messages_fallback_of_id"), type_="unique")
        batch_op.drop_column("fallback_of_id")
        batch_op.drop_column("content_variables")
        batch_op.drop_column("content_sid")
        batch_op.drop_column("channel")
