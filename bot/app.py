"""Builds the product's parts once per process and hands them to whoever needs them.

The CLI, the HTTP server (Slack and Teams adapters) and the scheduler all start
from :class:`Services`. Parts are built on first use, so a command that needs
only the database never loads the embedding model.
"""

from __future__ import annotations

import gc
import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.logging import event

if TYPE_CHECKING:
    from knowledge.service import KnowledgeBase
    from storage.db import Database
    from workflows.delivery import Messenger
    from workflows.dialogue import Dialogue
    from workflows.feedback import FeedbackService
    from workflows.reviews import ReviewService

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()

    @cached_property
    def database(self) -> "Database":
        from storage.db import open_database

        return open_database(self.settings)

    @cached_property
    def knowledge(self) -> "KnowledgeBase":
        from knowledge.service import open_knowledge

        return open_knowledge(self.settings)

    @cached_property
    def dialogue(self) -> "Dialogue":
        from workflows.dialogue import build_dialogue

        return build_dialogue(self.settings, self.database, knowledge=self.knowledge)

    @cached_property
    def messengers(self) -> list["Messenger"]:
        """The platforms this process can send direct messages through (those configured).

        One set per process, so that every sender — nudges, feedback invitations and
        reminders — shares each platform's pacing.
        """
        from handlers.slack.notify import slack_notifier
        from handlers.teams.notify import teams_notifier

        return [m for m in (slack_notifier(self), teams_notifier(self)) if m is not None]

    @cached_property
    def feedback(self) -> "FeedbackService":
        from workflows.feedback import FeedbackService
        from workflows.reviews import open_review_service

        # The review service alone: feedback never needs the guidance index loaded.
        reviews = open_review_service(self.settings, self.database)
        return FeedbackService.from_settings(self.settings, self.database, reviews)

    @property
    def reviews(self) -> "ReviewService":
        reviews = self.dialogue.reviews
        assert reviews is not None
        return reviews

    def warm_up(self) -> None:
        """Load the index and the embedding model and open the database before taking traffic.

        A cold embedding model makes the first burst of requests slow; Slack gives
        each request three seconds.
        """
        with self._lock:
            self.database
            self.knowledge.ensure_ready()
            self.knowledge.ask("Who makes strategic sourcing decisions?")
            self.dialogue
        # What is loaded now lives as long as the process: keep it out of the garbage
        # collector's full sweeps, which otherwise add tens of milliseconds to random requests.
        gc.collect()
        gc.freeze()
        event(log, "services_ready", **self.knowledge.stats())
