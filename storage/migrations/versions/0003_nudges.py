"""Nudges: snoozed reminders per stage and person, and the scheduler's job store.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stage_snooze",
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("snoozed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_stage_snooze_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_stage_snooze_review_id_review"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"], ["review_stage.id"], name=op.f("fk_stage_snooze_stage_id_review_stage"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("stage_id", "person_id", name=op.f("pk_stage_snooze")),
    )
    with op.batch_alter_table("stage_snooze", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_snooze_review_id"), ["review_id"], unique=False)
    # APScheduler's SQLAlchemyJobStore table (it would create it itself; here the migrations own the schema).
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Double(), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apscheduler_jobs_next_run_time"))
    op.drop_table("apscheduler_jobs")
    with op.batch_alter_table("stage_snooze", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_snooze_review_id"))
    op.drop_table("stage_snooze")
