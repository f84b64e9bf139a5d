"""The guidance index in the database: roots, sources, passages and the index version.

Until this revision the passages lived in ``catalog.json`` in each process's data
folder; the knowledge base moves an existing catalog into these tables the first
time it opens the database (it is the part that knows how to read one).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guidance_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("refresh_owner", sa.String(length=200), nullable=True),
        sa.Column("refresh_started_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidance_index")),
    )
    op.create_table(
        "guidance_root",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("starter", sa.Boolean(), nullable=False),
        sa.Column("excludes", sa.JSON(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("last_indexed_at", sa.DateTime(), nullable=True),
        sa.Column("last_report", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidance_root")),
        sa.UniqueConstraint("location", name=op.f("uq_guidance_root_location")),
    )
    op.create_table(
        "guidance_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("root_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=1000), nullable=False),
        sa.Column("display", sa.String(length=1000), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["root_id"], ["guidance_root.id"], name=op.f("fk_guidance_source_root_id_guidance_root"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidance_source")),
        sa.UniqueConstraint("key", name=op.f("uq_guidance_source_key")),
    )
    with op.batch_alter_table("guidance_source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guidance_source_root_id"), ["root_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_guidance_source_generation"), ["generation"], unique=False)
    op.create_table(
        "guidance_passage",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("section", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("context_terms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["guidance_source.id"],
            name=op.f("fk_guidance_passage_source_id_guidance_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidance_passage")),
    )
    with op.batch_alter_table("guidance_passage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guidance_passage_source_id"), ["source_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("guidance_passage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guidance_passage_source_id"))
    op.drop_table("guidance_passage")
    with op.batch_alter_table("guidance_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guidance_source_generation"))
        batch_op.drop_index(batch_op.f("ix_guidance_source_root_id"))
    op.drop_table("guidance_source")
    op.drop_table("guidance_root")
    op.drop_table("guidance_index")
