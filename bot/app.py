"""Builds the product's parts once per process and hands them to whoever needs them.

The CLI, the HTTP server (Slack and Teams adapters) and the scheduler all start
from :class:`Services`. Parts are built on first use, so a command that needs
only the database never loads the embedding model.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import structlog

from bot.config import Settings
from storage.db import Database, open_database
from storage.metrics import MESSAGES_SENT
from storage.models import Person
from storage.work_queue import WorkQueue
from workflows.dialogue import Dialogue, build_dialogue
from workflows.feedback import FeedbackService
from workflows.guidance_insights import InsightsService
from workflows.guidance_owners import GuidanceOwners
from workflows.messaging import Messenger, SendResult, register_message_work
from workflows.replies import Reply
from workflows.reviews import ReviewService
from workflows.settings import WorkflowSettings
from workflows.work_runner import WorkRunner
from workflows.working_days import WorkingCalendar, calendar_from_settings

if TYPE_CHECKING:  # for annotations only: both are imported lazily where they are built (heavy libraries)
    from handlers.teams.endpoint import TeamsAdapter
    from knowledge.service import KnowledgeBase

log = structlog.get_logger(__name__)


class CountedMessenger:
    """A platform's messenger that counts each send's result for ``/metrics`` (messages sent by platform and
    status), so every sender (nudges, feedback invitations and reminders) is counted in one place."""

    def __init__(self, inner: Messenger) -> None:
        self.inner = inner
        self.platform = inner.platform

    def can_reach(self, person: Person) -> bool:
        return self.inner.can_reach(person)

    def send(self, person: Person, reply: Reply, **options: Any) -> SendResult:
        result = self.inner.send(person, reply, **options)
        MESSAGES_SENT.labels(platform=self.platform, status=result.status.value).inc()
        return result

    def __getattr__(self, name: str) -> object:
        # Platform-specific extras (pacing, closing) pass straight through to the platform's messenger.
        return getattr(self.inner, name)


class Services:
    """The process's parts, built on first use; the chat adapters see them as a ``handlers.services.ChatServices``."""

    def __init__(self, settings: Settings, *, knowledge: KnowledgeBase | None = None) -> None:
        """``knowledge``: an already open knowledge base to use instead of opening one from the settings (tests
        share one between servers, since each holds its own embedding model)."""
        self.settings = settings
        self._lock = threading.Lock()
        self._given_knowledge = knowledge is not None
        if knowledge is not None:
            self.__dict__["knowledge"] = knowledge

    @cached_property
    def workflow_settings(self) -> WorkflowSettings:
        return self.settings.for_workflows()

    @cached_property
    def database(self) -> Database:
        return open_database(self.settings.resolved_database_url)

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        # lazy: the guidance's libraries (Chroma, ONNX Runtime) take a second to import; most commands never ask.
        from knowledge.service import open_knowledge

        return open_knowledge(self.settings.for_knowledge(), database=self.database)

    @cached_property
    def dialogue(self) -> Dialogue:
        # The guidance is opened on the first question, so the chat core starts without loading it.
        return build_dialogue(self.workflow_settings, self.database, knowledge=lambda: self.knowledge)

    @property
    def reviews(self) -> ReviewService:
        """The review service the chat core uses; commands, buttons and feedback share it."""
        reviews = self.dialogue.reviews
        assert reviews is not None
        return reviews

    @cached_property
    def work(self) -> WorkRunner:
        """The process's workers for the durable work queue; each adapter registers what it can do and starts
        them. Opening it opens the database. Direct messages (nudges, feedback invitations and reminders) are
        registered here, for each platform configured: the scheduler queues them, these workers send them."""
        runner = WorkRunner(
            WorkQueue(self.database),
            threads=self.settings.work_threads,
            lease=timedelta(seconds=self.settings.work_lease_seconds),
            grace_seconds=self.settings.shutdown_grace_seconds,
        )
        platforms = [
            name
            for name, configured in (
                ("slack", self.settings.for_slack().bot_token is not None),
                ("teams", self.settings.for_teams().configured),
            )
            if configured
        ]
        # The messengers are built when the first message is sent (the Teams adapter itself asks for the runner).
        register_message_work(runner, self.database, lambda: self.messengers, platforms)
        return runner

    @cached_property
    def calendar(self) -> WorkingCalendar:
        return calendar_from_settings(self.workflow_settings)

    @cached_property
    def feedback(self) -> FeedbackService:
        return FeedbackService.from_settings(self.workflow_settings, self.database, self.reviews, self.messengers)

    @cached_property
    def insights(self) -> InsightsService:
        """Guidance insights for GUIDANCE_OWNERS; similar questions are grouped with the guidance's own embedding
        model once the knowledge base has loaded it."""
        return InsightsService(
            self.database,
            GuidanceOwners.of(self.settings.guidance_owners),
            embedder=lambda: self.knowledge.embedder(),
        )

    @cached_property
    def teams(self) -> TeamsAdapter | None:
        """The process's one Teams adapter (the server and the scheduler share its token and pacing), when Teams
        is configured."""
        settings = self.settings.for_teams()
        if not settings.configured:
            return None
        # lazy: the Teams adapter's libraries (msal, PyJWT, the activity models) are only needed when it runs.
        from handlers.teams.endpoint import TeamsAdapter

        return TeamsAdapter(self, settings)

    @cached_property
    def messengers(self) -> list[Messenger]:
        """The platforms this process can send direct messages through (those configured).

        One set per process, so that every sender — nudges, feedback invitations and
        reminders — shares each platform's pacing.
        """
        # lazy: Slack's SDK is only needed when Slack is configured.
        from handlers.slack.notify import slack_notifier
        from handlers.teams.notify import TeamsNotifier

        found: list[Messenger] = []
        slack = slack_notifier(self.settings.for_slack())
        if slack is not None:
            found.append(slack)
        if self.teams is not None:
            found.append(TeamsNotifier(self.teams.messenger))
        return [CountedMessenger(messenger) for messenger in found]

    def close(self) -> None:
        """Release what was built: the Teams adapter's threads and connections, the database's connections, and
        the guidance (its embedding model is the largest thing a process holds). Safe to call more than once."""
        built = self.__dict__
        work = built.pop("work", None)
        if work is not None:
            work.stop()  # before the database it uses; nothing if an adapter stopped it already
        teams = built.pop("teams", None)
        if teams is not None:
            teams.close()
        knowledge = built.pop("knowledge", None)
        if knowledge is not None and not self._given_knowledge:
            knowledge.close()  # one given by the caller is the caller's to close
        database = built.pop("database", None)
        if database is not None:
            database.dispose()
        for name in ("dialogue", "messengers", "feedback", "insights"):
            built.pop(name, None)

    def warm_up(self) -> None:
        """Load the index and the embedding model and open the database before taking traffic.

        A cold embedding model makes the first burst of requests slow; Slack gives
        each request three seconds.
        """
        with self._lock:
            _ = self.database
            self.knowledge.ensure_ready()
            self.knowledge.ask("Who is responsible for commissioning decisions?")
            _ = self.dialogue
            # Guidance indexed by another process (or replica) is picked up without a restart.
            self.knowledge.follow_changes(self.settings.index_poll_seconds)
        log.info("services_ready", **self.knowledge.stats())
