"""The scheduler's feedback job (``bot/scheduler.py`` looks for ``send_feedback_reminders`` here)."""

from workflows.feedback import send_feedback_reminders

__all__ = ["send_feedback_reminders"]
