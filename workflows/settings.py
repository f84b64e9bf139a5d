"""What the workflows are configured with: one small frozen object, built by ``bot/`` from its settings.

Each field has the meaning (and the default) of the environment variable of the same name, documented
in the README's configuration table; nothing here reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["WorkflowSettings"]


@dataclass(frozen=True)
class WorkflowSettings:
    timezone: str = "Europe/London"
    # The council's commissioning cycle (CYCLE_FILE); the built-in workflows/cycle.toml when None.
    cycle_file: Path | None = None
    # Stakeholder feedback question sets (FEEDBACK_QUESTION_SETS); the built-in question_sets.toml when None.
    feedback_question_sets: Path | None = None
    conversation_idle_minutes: int = 60 * 24
    # Nobody is nudged outside these hours (in their own timezone), at weekends or on these bank holidays.
    working_hours: str = "09:00-17:30"
    bank_holiday_region: str = "ENG"
    nudge_days_before: tuple[int, ...] = (5, 1)
    nudge_overdue_every_working_days: int = 3
    escalate_after_working_days: int = 5
    nudge_max_attempts: int = 5
    # Emails or platform ids of the people who see the guidance insights (GUIDANCE_OWNERS).
    guidance_owners: tuple[str, ...] = ()
    # Answers and their ratings are kept this many days (ANSWER_LOG_DAYS), then purged daily.
    answer_log_days: int = 365
