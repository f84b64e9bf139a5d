"""What the chat adapters use from the process that runs them.

``bot.app.Services`` builds these parts once per process (on first use) and hands itself to the Slack
and Teams adapters as a :class:`ChatServices`; an adapter never builds a part of the core itself, and
never imports ``bot``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from storage.db import Database
from workflows.dialogue import Dialogue
from workflows.feedback import FeedbackService
from workflows.guidance_insights import InsightsService
from workflows.messaging import Messenger
from workflows.reviews import ReviewService
from workflows.role_commands import RoleSource
from workflows.work_runner import WorkRunner
from workflows.working_days import WorkingCalendar

__all__ = ["ChatServices"]


class ChatServices(Protocol):
    @property
    def database(self) -> Database: ...

    @property
    def dialogue(self) -> Dialogue:
        """The chat core: typed messages, pressed buttons and the review form."""

    @property
    def reviews(self) -> ReviewService: ...

    @property
    def feedback(self) -> FeedbackService: ...

    @property
    def knowledge(self) -> RoleSource:
        """The guidance's role directory (for ``roles`` and ``whois``); loading it may take a while."""

    @property
    def messengers(self) -> Sequence[Messenger]:
        """Every platform this process can send direct messages through (invitations go out through these)."""

    @property
    def insights(self) -> InsightsService:
        """Guidance insights from the answer log, and who may see them (GUIDANCE_OWNERS)."""

    @property
    def work(self) -> WorkRunner:
        """The durable work queue's workers: work stored before a platform's ack, done by whichever process is alive."""

    @property
    def calendar(self) -> WorkingCalendar:
        """The council's working days and hours."""
