"""Import staging: the validated rows of a running import, a chunk at a time, before they are applied

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 05:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_staged_chunks",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("rows", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["import_runs.id"],
            name=op.f("fk_import_staged_chunks_run_id_import_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_import_staged_chunks")),
    )


def downgrade():
    op.drop_table("import_staged_chunks")
