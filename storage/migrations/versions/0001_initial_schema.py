"""Initial schema: people, roles, reviews and stages, conversations, notifications, feedback, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("trail", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_state")),
        sa.UniqueConstraint("key", name=op.f("uq_conversation_state_key")),
    )
    with op.batch_alter_table("conversation_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_state_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("slack_user_id", sa.String(length=64), nullable=True),
        sa.Column("teams_user_id", sa.String(length=64), nullable=True),
        sa.Column("teams_conversation_ref", sa.JSON(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("email", name=op.f("uq_person_email")),
        sa.UniqueConstraint("slack_user_id", name=op.f("uq_person_slack_user_id")),
        sa.UniqueConstraint("teams_user_id", name=op.f("uq_person_teams_user_id")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_person_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_person_id"], ["person.id"], name=op.f("fk_audit_log_actor_person_id_person"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index("ix_audit_log_review_at", ["review_id", "at"], unique=False)

    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("lead_commissioner_id", sa.Integer(), nullable=False),
        sa.Column("portfolio_holder_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.String(length=2000), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_commissioner_id"],
            ["person.id"],
            name=op.f("fk_review_lead_commissioner_id_person"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["portfolio_holder_id"],
            ["person.id"],
            name=op.f("fk_review_portfolio_holder_id_person"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index("ix_review_lead_status", ["lead_commissioner_id", "status"], unique=False)
        batch_op.create_index("ix_review_portfolio_status", ["portfolio_holder_id", "status"], unique=False)
        batch_op.create_index("ix_review_service_title", ["service", "title"], unique=False)
        batch_op.create_index("ix_review_status", ["status"], unique=False)

    op.create_table(
        "role_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_role_assignment_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_assignment")),
        sa.UniqueConstraint("person_id", "role", "scope", name="uq_role_assignment_person_role_scope"),
    )
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_assignment_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_assignment_role"), ["role"], unique=False)

    op.create_table(
        "review_stage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("completion_note", sa.String(length=2000), nullable=True),
        sa.Column("completed_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["person.id"], name=op.f("fk_review_stage_owner_id_person"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_review_stage_review_id_review"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_stage")),
        sa.UniqueConstraint("review_id", "position", name="uq_review_stage_review_position"),
    )
    with op.batch_alter_table("review_stage", schema=None) as batch_op:
        batch_op.create_index("ix_review_stage_open_due", ["completed_at", "due_date"], unique=False)
        batch_op.create_index("ix_review_stage_owner_due", ["owner_id", "due_date"], unique=False)

    op.create_table(
        "stakeholder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_stakeholder_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_stakeholder_review_id_review"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder")),
        sa.UniqueConstraint("review_id", "person_id", name="uq_stakeholder_review_person"),
    )
    with op.batch_alter_table("stakeholder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stakeholder_person_id"), ["person_id"], unique=False)

    op.create_table(
        "feedback_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_feedback_request_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_feedback_request_review_id_review"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["review_stage.id"],
            name=op.f("fk_feedback_request_stage_id_review_stage"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_request")),
    )
    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_request_person_status", ["person_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_request_review_id"), ["review_id"], unique=False)

    op.create_table(
        "notification_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("period", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_notification_ledger_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_notification_ledger_review_id_review"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["review_stage.id"],
            name=op.f("fk_notification_ledger_stage_id_review_stage"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_ledger")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_ledger_dedupe_key")),
    )
    with op.batch_alter_table("notification_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_notification_ledger_person_status", ["person_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_ledger_review_id"), ["review_id"], unique=False)

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


def downgrade() -> None:
    with op.batch_alter_table("feedback_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_response_request_id"))

    op.drop_table("feedback_response")
    with op.batch_alter_table("notification_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_ledger_review_id"))
        batch_op.drop_index("ix_notification_ledger_person_status")

    op.drop_table("notification_ledger")
    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_request_review_id"))
        batch_op.drop_index("ix_feedback_request_person_status")

    op.drop_table("feedback_request")
    with op.batch_alter_table("stakeholder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stakeholder_person_id"))

    op.drop_table("stakeholder")
    with op.batch_alter_table("review_stage", schema=None) as batch_op:
        batch_op.drop_index("ix_review_stage_owner_due")
        batch_op.drop_index("ix_review_stage_open_due")

    op.drop_table("review_stage")
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_assignment_role"))
        batch_op.drop_index(batch_op.f("ix_role_assignment_person_id"))

    op.drop_table("role_assignment")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index("ix_review_status")
        batch_op.drop_index("ix_review_service_title")
        batch_op.drop_index("ix_review_portfolio_status")
        batch_op.drop_index("ix_review_lead_status")

    op.drop_table("review")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_review_at")
        batch_op.drop_index("ix_audit_log_entity")

    op.drop_table("audit_log")
    op.drop_table("person")
    with op.batch_alter_table("conversation_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_state_updated_at"))

    op.drop_table("conversation_state")
