"""Builds the product's parts once per process and hands them to whoever needs them.

The CLI, the HTTP server (Slack and Teams adapters) and the scheduler all start
from :class:`Services`. Parts are built on first use, so a command that needs
only the database never loads the embedding model.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

import structlog

from bot.config import Settings

if TYPE_CHECKING:
    from handlers.teams.endpoint import TeamsAdapter
    from knowledge.service import KnowledgeBase
    from storage.db import Database
    from workflows.delivery import Messenger
    from workflows.dialogue import Dialogue
    from workflows.feedback import FeedbackService
    from workflows.reviews import ReviewService

log = structlog.get_logger(__name__)


class Services:
    def __init__(self, settings: Settings, *, knowledge: KnowledgeBase | None = None) -> None:
        """``knowledge``: an already open knowledge base to use instead of opening one from the settings (tests
        share one between servers, since each holds its own embedding model)."""
        self.settings = settings
        self._lock = threading.Lock()
        if knowledge is not None:
            self.__dict__["knowledge"] = knowledge

    @cached_property
    def database(self) -> Database:
        from storage.db import open_database

        return open_database(self.settings)

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        from knowledge.service import open_knowledge

        return open_knowledge(self.settings)

    @cached_property
    def dialogue(self) -> Dialogue:
        from workflows.dialogue import build_dialogue

        return build_dialogue(self.settings, self.database, knowledge=self.knowledge)

    @cached_property
    def messengers(self) -> list[Messenger]:
        """The platforms this process can send direct messages through (those configured).

        One set per process, so that every sender — nudges, feedback invitations and
        reminders — shares each platform's pacing.
        """
        from handlers.slack.notify import slack_notifier
        from handlers.teams.notify import teams_notifier

        return [m for m in (slack_notifier(self), teams_notifier(self)) if m is not None]

    @cached_property
    def teams(self) -> TeamsAdapter | None:
        """The process's one Teams adapter (the server and the scheduler share its token and pacing), when Teams
        is configured."""
        from handlers.teams.endpoint import TeamsAdapter, teams_configured

        return TeamsAdapter(self) if teams_configured(self.settings) else None

    @cached_property
    def feedback(self) -> FeedbackService:
        from workflows.feedback import FeedbackService
        from workflows.reviews import open_review_service

        # The review service alone: feedback never needs the guidance index loaded.
        reviews = open_review_service(self.settings, self.database)
        return FeedbackService.from_settings(self.settings, self.database, reviews)

    @property
    def reviews(self) -> ReviewService:
        reviews = self.dialogue.reviews
        assert reviews is not None
        return reviews

    def close(self) -> None:
        """Release what was built: the Teams adapter's threads and connections, the database's connections, and
        the guidance (its embedding model is the largest thing a process holds). Safe to call more than once."""
        built = self.__dict__
        teams = built.pop("teams", None)
        if teams is not None:
            teams.close()
        database = built.pop("database", None)
        if database is not None:
            database.dispose()
        for name in ("knowledge", "dialogue", "messengers", "feedback"):
            built.pop(name, None)

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
        log.info("services_ready", **self.knowledge.stats())
