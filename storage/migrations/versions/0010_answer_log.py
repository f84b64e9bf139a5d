"""The answer log: each guidance answer given, its kind, the passages it cited, and its rating (no identity).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("delivery_key", sa.String(length=64), nullable=True),
        sa.Column("question", sa.String(length=2000), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("written_by", sa.String(length=100), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("rating", sa.String(length=20), nullable=True),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.Column("rated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_log")),
        sa.UniqueConstraint("ref", name=op.f("uq_answer_log_ref")),
    )
    with op.batch_alter_table("answer_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_log_asked_at"), ["asked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_answer_log_delivery_key"), ["delivery_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answer_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_log_delivery_key"))
        batch_op.drop_index(batch_op.f("ix_answer_log_asked_at"))
    op.drop_table("answer_log")
