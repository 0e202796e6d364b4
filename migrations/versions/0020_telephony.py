"""Telephony: agents' phones, calls placed through Twilio Voice, agents' states and their history, pause reasons

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

AGENT_STATES = sa.Enum("ready", "on_call", "wrap_up", "paused", name="agent_state", native_enum=False, length=10)


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("agent_phone", sa.String(length=120), nullable=True))

    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("agent_phone", sa.String(length=120), nullable=False),
        sa.Column("twilio_sid", sa.String(length=34), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "requested", "placed", "agent_answered", "dialling", "ended", "failed",
                name="call_status", native_enum=False, length=16,
            ),
            server_default="requested",
            nullable=False,
        ),
        sa.Column("agent_leg_status", sa.String(length=16), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dial_status", sa.String(length=16), nullable=True),
        sa.Column("talk_seconds", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column(
            "disposition",
            sa.Enum("pending", "recorded", "not_recorded", name="call_disposition", native_enum=False, length=14),
            nullable=True,
        ),
        sa.Column("is_recorded", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("recording_sid", sa.String(length=34), nullable=True),
        sa.Column("recording_seconds", sa.Integer(), nullable=True),
        sa.Column("is_recording_deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.String(length=200), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status IN ('requested', 'failed')) OR twilio_sid IS NOT NULL", name=op.f("ck_calls_placed_with_sid")
        ),
        sa.CheckConstraint("talk_seconds IS NULL OR talk_seconds >= 0", name=op.f("ck_calls_talk_not_negative")),
        sa.CheckConstraint(
            "disposition IS NULL OR disposition != 'recorded' OR attempt_id IS NOT NULL",
            name=op.f("ck_calls_recorded_with_attempt"),
        ),
        sa.ForeignKeyConstraint(["attempt_id"], ["contact_attempts.id"], name=op.f("fk_calls_attempt_id_contact_attempts")),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"], name=op.f("fk_calls_family_id_families")),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], name=op.f("fk_calls_participant_id_participants")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_calls_user_id_users")),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_items.id"], name=op.f("fk_calls_work_item_id_work_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("attempt_id", name=op.f("uq_calls_attempt_id")),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_calls_recording_sid")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_calls_twilio_sid")),
    )
    op.create_index("ix_calls_user_started", "calls", ["user_id", "started_at"])
    op.create_index("ix_calls_started", "calls", ["started_at"])
    op.create_index("ix_calls_family", "calls", ["family_id", "started_at"])
    op.create_index(
        "ix_calls_pending_disposition",
        "calls",
        ["user_id"],
        sqlite_where=sa.text("disposition = 'pending'"),
        postgresql_where=sa.text("disposition = 'pending'"),
    )

    op.create_table(
        "agent_states",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", AGENT_STATES, nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(state = 'paused') = (reason_code IS NOT NULL)", name=op.f("ck_agent_states_paused_with_reason")
        ),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_agent_states_call_id_calls")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agent_states_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_states")),
    )

    op.create_table(
        "agent_state_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", AGENT_STATES, nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=True),
        sa.Column("previous_state", AGENT_STATES, nullable=True),
        sa.Column("previous_reason_code", sa.String(length=20), nullable=True),
        sa.Column("previous_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["by_user_id"], ["users.id"], name=op.f("fk_agent_state_events_by_user_id_users")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_agent_state_events_call_id_calls")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_agent_state_events_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_events")),
    )
    op.create_index("ix_agent_state_events_user_at", "agent_state_events", ["user_id", "at"])
    op.create_index("ix_agent_state_events_at", "agent_state_events", ["at"])

    pause_reasons = op.create_table(
        "pause_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pause_reasons")),
        sa.UniqueConstraint("code", name=op.f("uq_pause_reasons_code")),
    )
    op.bulk_insert(
        pause_reasons,
        [
            {"code": "istirahat", "label": "Istirahat", "is_active": True, "sort_order": 1},
            {"code": "sholat", "label": "Sholat", "is_active": True, "sort_order": 2},
            {"code": "rapat", "label": "Rapat", "is_active": True, "sort_order": 3},
            {"code": "pelatihan", "label": "Pelatihan", "is_active": True, "sort_order": 4},
            {"code": "toilet", "label": "Toilet", "is_active": True, "sort_order": 5},
            {"code": "administrasi", "label": "Administrasi", "is_active": True, "sort_order": 6},
        ],
    )


def downgrade():
    op.drop_table("pause_reasons")
    op.drop_index("ix_agent_state_events_at", table_name="agent_state_events")
    op.drop_index("ix_agent_state_events_user_at", table_name="agent_state_events")
    op.drop_table("agent_state_events")
    op.drop_table("agent_states")
    op.drop_index("ix_calls_pending_disposition", table_name="calls")
    op.drop_index("ix_calls_family", table_name="calls")
    op.drop_index("ix_calls_started", table_name="calls")
    op.drop_index("ix_calls_user_started", table_name="calls")
    op.drop_table("calls")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("agent_phone")
