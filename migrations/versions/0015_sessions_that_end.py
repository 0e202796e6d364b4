"""Sessions that end: a per-user session version, and API tokens that expire

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 05:10:00
"""

from datetime import UTC, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: Tokens issued before expiry existed expire this long after they were made.
EXISTING_TOKEN_DAYS = 90

def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        created = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        expires = created + timedelta(days=EXISTING_TOKEN_DAYS)
        if connection.dialect.name == "sqlite":  # stored as naive UTC there (telecollect.db.UTCDateTime)
            expires = expires.astimezone(UTC).replace(tzinfo=None)
        connection.execute(tokens.update().where(tokens.c.id == token_id).values(expires_at=expires))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)

def downgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
