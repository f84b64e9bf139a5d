"""Feedback: rounds (one request as the lead sees it), stakeholders' request rows tied to a round, and
responses that hang off the round so an anonymous answer cannot be joined back to a person.

``feedback_response`` had no rows in any release (nothing wrote feedback before this revision), so it is
rebuilt rather than altered.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("question_set", sa.String(length=100), nullable=False),
        sa.Column("question_set_version", sa.Integer(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_person_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_by_person_id"],
            ["person.id"],
            name=op.f("fk_feedback_round_requested_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_feedback_round_review_id_review"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_round")),
    )
    with op.batch_alter_table("feedback_round", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_round_review_kind", ["review_id", "kind"], unique=False)

    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_feedback_request_round_id_feedback_round"),
            "feedback_round",
            ["round_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint("uq_feedback_request_round_person", ["round_id", "person_id"])

    with op.batch_alter_table("feedback_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_response_request_id"))
    op.drop_table("feedback_response")
    op.create_table(
        "feedback_response",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("edit_token_hash", sa.String(length=64), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_feedback_response_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["feedback_round.id"],
            name=op.f("fk_feedback_response_round_id_feedback_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_response")),
        sa.UniqueConstraint("edit_token_hash", name=op.f("uq_feedback_response_edit_token_hash")),
        sa.UniqueConstraint("round_id", "person_id", name="uq_feedback_response_round_person"),
    )
    with op.batch_alter_table("feedback_response", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_response_round_id", ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback_response", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_response_round_id")
    op.drop_table("feedback_response")
    op.create_table(
        "feedback_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(length=5000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_feedback_response_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["feedback_request.id"],
            name=op.f("fk_feedback_response_request_id_feedback_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_response")),
    )
    with op.batch_alter_table("feedback_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_response_request_id"), ["request_id"], unique=False)
    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.drop_constraint("uq_feedback_request_round_person", type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_feedback_request_round_id_feedback_round"), type_="foreignkey")
        batch_op.drop_column("round_id")
    with op.batch_alter_table("feedback_round", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_round_review_kind")
    op.drop_table("feedback_round")
