"""Reviews get ``title_key``: the same-title check's look-up, indexed and folded the same on every database.

The check used to compare ``lower(title)`` for every review (no index; ASCII-only case folding on
SQLite, full Unicode on PostgreSQL). The key is computed in Python (NFKC, ``casefold``, spaces
collapsed, SHA-256) so both databases agree; existing reviews are keyed here.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(title: str, service: str) -> str:
    # A frozen copy of storage.models.review_title_key, as it was when this migration was written.
    def fold(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())

    return hashlib.sha256(f"{fold(service)}\x1f{fold(title)}".encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_key", sa.String(length=64), server_default="", nullable=False))
    connection = op.get_bind()
    review = sa.table(
        "review",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("service", sa.String),
        sa.column("title_key", sa.String),
    )
    rows = connection.execute(sa.select(review.c.id, review.c.title, review.c.service)).all()
    if rows:
        connection.execute(
            review.update().where(review.c.id == sa.bindparam("review_id")).values(title_key=sa.bindparam("key")),
            [{"review_id": row.id, "key": _key(row.title, row.service)} for row in rows],
        )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index("ix_review_title_key", ["title_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index("ix_review_title_key")
        batch_op.drop_column("title_key")
