"""What every Slack listener shares: the Web API client, the chat core, people, and the durable work queue.

Listeners acknowledge Slack at once. Slow work (searching the guidance, saving a review, asking Slack
about a user) is first stored in the work queue, keyed on Slack's own id for the request, and done after
the acknowledgement by a worker in whichever process is alive: answers (``answers.py``), slash commands
(``command_work.py``), and button presses, modal submissions, the App Home and the assistant panel
(``interaction_work.py``). A burst of requests never holds up an acknowledgement behind someone else's
answer, and a crash after Slack's 200 loses nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from handlers.services import ChatServices
from handlers.slack.answers import ANSWER_KIND, SlackAnswerWork, delivery_client, queue_answer
from handlers.slack.command_work import COMMAND_KIND, SlackCommandWork, queue_command
from handlers.slack.constants import PLATFORM, THREAD_PLATFORM
from handlers.slack.interaction_work import (
    INTERACTION_KIND,
    SlackInteractionWork,
    interaction_dedup_key,
    queue_interaction,
)
from handlers.slack.people import SlackPeople, slack_people_resolver
from handlers.slack.settings import SlackSettings
from storage.events import ProcessedEvents
from storage.people import PeopleRepository
from workflows.command_parsing import parse_command
from workflows.commands import CommandRunner
from workflows.dialogue import Dialogue, UserContext
from workflows.people import PersonRef
from workflows.replies import Reply

log = structlog.get_logger(__name__)

# Slow work waits until no request has arrived for QUIET_SECONDS, but never longer than MAX_DEFER_SECONDS.
QUIET_SECONDS = 0.02
MAX_DEFER_SECONDS = 1.0


def build_web_client(token: str, base_url: str) -> WebClient:
    """A Web API client that waits out 429s (``Retry-After``) and retries dropped connections.

    slack-sdk retries only connection errors unless told otherwise. Server errors are
    not retried: a 5xx after Slack has posted a message would post it twice.
    """
    client = WebClient(token=token, base_url=base_url if base_url.endswith("/") else base_url + "/", timeout=15)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
    ]
    return client


def thread_key(team_id: str, channel_id: str, thread_ts: str) -> str:
    """A channel thread is one conversation: follow-ups in it are read in context."""
    return f"{PLATFORM}:{team_id}:{channel_id}:{thread_ts}"


def channel_key(team_id: str, channel_id: str) -> str:
    """A direct message channel is one conversation (the review flow runs there by typing)."""
    return f"{PLATFORM}:{team_id}:{channel_id}"


def command_key(team_id: str, user_id: str) -> str:
    """Slash commands and the App Home have no thread; each officer gets a conversation of their own."""
    return f"{PLATFORM}:{team_id}:{user_id}:commands"


class ChannelPacer:
    """Keeps chat.postMessage near Slack's one message per second per channel.

    A short burst (an answer split into a few messages) goes at once; beyond it, each channel
    gets a message a second. Slack's 429s, if they come anyway, are waited out by the client.
    """

    def __init__(
        self,
        burst: int = 3,
        per_second: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._burst, self._rate = burst, per_second
        self._clock, self._sleep = clock, sleep
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, when)
        self._lock = threading.Lock()

    def next_turn(self, channel: str) -> float:
        """Seconds until ``channel`` may have another message; 0 means now, and the turn is taken.

        For the work queue's workers: a channel that must wait puts its work back rather than holding a thread.
        """
        with self._lock:
            now = self._clock()
            tokens, when = self._buckets.get(channel, (float(self._burst), now))
            tokens = min(float(self._burst), tokens + (now - when) * self._rate)
            if tokens < 1:
                self._buckets[channel] = (tokens, now)
                return (1 - tokens) / self._rate
            self._buckets[channel] = (tokens - 1, now)
            return 0.0

    def wait_turn(self, channel: str) -> None:
        with self._lock:
            now = self._clock()
            tokens, when = self._buckets.get(channel, (float(self._burst), now))
            tokens = min(float(self._burst), tokens + (now - when) * self._rate) - 1
            self._buckets[channel] = (tokens, now)
            if len(self._buckets) > 10_000:  # forget quiet channels
                self._buckets = {c: v for c, v in self._buckets.items() if now - v[1] < 60}
        if tokens < 0:
            self._sleep(-tokens / self._rate)


class SlackContext:
    def __init__(self, services: ChatServices, client: WebClient, settings: SlackSettings) -> None:
        self.services = services
        self.settings = settings
        self.client = client
        self.command = settings.command
        self._last_request = 0.0
        self.pacer = ChannelPacer()
        token = settings.bot_token.get_secret_value() if settings.bot_token else ""
        # Answers go through the durable work queue: stored before Slack's ack, posted by whichever process is alive.
        self.work = services.work
        self.work.handles(
            ANSWER_KIND, SlackAnswerWork(delivery_client(token, settings.api_url), self._answer, self.pacer.next_turn)
        )
        # Slash commands too: stored before the ack, answered through the response_url once.
        self.work.handles(COMMAND_KIND, SlackCommandWork(self._run_command))
        # Button presses, modal submissions, the App Home and the assistant panel: stored before the ack too.
        interactions = SlackInteractionWork(self, delivery_client(token, settings.api_url), self.pacer.next_turn)
        self.work.handles(INTERACTION_KIND, interactions)
        self.work.before_each = self._let_acknowledgements_go_first
        self.work.start()

    # --- the parts, built on first use so the app can start before the index is loaded ---------

    @property
    def dialogue(self) -> Dialogue:
        return self.services.dialogue

    @cached_property
    def people_repository(self) -> PeopleRepository:
        return PeopleRepository(self.services.database)

    @cached_property
    def slack_people(self) -> SlackPeople:
        return SlackPeople(self.client, self.people_repository)

    @cached_property
    def processed_events(self) -> ProcessedEvents:
        return ProcessedEvents(self.services.database)

    @cached_property
    def commands(self) -> CommandRunner:
        return CommandRunner(
            self.dialogue,
            roles=lambda: self.services.knowledge,
            # The process's one feedback service, with the council's question sets.
            feedback=lambda: self.services.feedback,
            insights=lambda: self.services.insights,
            command_prefix=f"{self.command} ",
        )

    # --- who is talking --------------------------------------------------------------------

    def known_person(self, user_id: str) -> PersonRef | None:
        """The person with this Slack user id in the people table, without asking Slack (fast enough for a
        trigger id's three seconds)."""
        found = self.people_repository.find_by_slack_id(user_id)
        return PersonRef.from_person(found) if found is not None else None

    def user(self, user_id: str, conversation_key: str) -> UserContext:
        person = self.slack_people.person_for(user_id)
        return UserContext(
            platform=PLATFORM,
            conversation_key=conversation_key,
            people=slack_people_resolver(self.slack_people, self.people_repository, person),
            person=person,
            display_name=person.name if person else "",
        )

    def queue_answer(
        self,
        event_id: str,
        *,
        team_id: str,
        channel: str,
        user: str,
        text: str,
        conversation_key: str,
        thread_ts: str | None,
        join_thread: str | None,
    ) -> bool:
        """Store the answer's work before Slack is acknowledged; False (logged) for an event already stored."""
        stored = queue_answer(
            self.work.enqueue,
            event_id=event_id,
            team_id=team_id,
            channel=channel,
            user=user,
            text=text,
            conversation_key=conversation_key,
            thread_ts=thread_ts,
            join_thread=join_thread,
        )
        if not stored:
            log.info("slack_event_duplicate", event_id=event_id)
        return stored

    def queue_command(self, command: dict[str, Any]) -> bool:
        """Store a slash command's work before Slack is acknowledged; False (logged) for a request already stored."""
        stored = queue_command(
            self.work.enqueue,
            team_id=str(command.get("team_id", "")),
            user_id=str(command["user_id"]),
            channel_id=str(command.get("channel_id", "")),
            text=str(command.get("text", "")),
            response_url=str(command["response_url"]),
            trigger_id=str(command["trigger_id"]),
        )
        if not stored:
            log.info("slack_command_duplicate", user=command["user_id"])
        return stored

    def _run_command(self, payload: dict[str, Any]) -> list[Reply]:
        """Work out the replies to a stored slash command (in a worker, after the acknowledgement)."""
        team_id, user_id = str(payload["team_id"]), str(payload["user_id"])
        user = self.user(user_id, command_key(team_id, user_id))
        return self.commands.run_command(user, parse_command(str(payload.get("text") or "")))

    def _answer(self, payload: dict[str, Any]) -> list[Reply]:
        """Work out the replies to a stored message (in a worker, after the acknowledgement)."""
        team_id, channel = str(payload["team_id"]), str(payload["channel"])
        user = self.user(str(payload["user"]), str(payload["conversation_key"]))
        if payload.get("join_thread"):
            # Joined before answering, so a follow-up sent the moment the answer appears is not missed.
            self.join_thread(team_id, channel, str(payload["join_thread"]))
        return self.dialogue.handle(user, str(payload.get("text") or ""))

    def queue_interaction(
        self,
        task: str,
        payload: Mapping[str, Any],
        *,
        key: str,
        team_id: str,
        where: str,
        apology: Mapping[str, Any] | None = None,
        when_done: str | None = None,
    ) -> bool:
        """Store a press's, a submission's or an event's work before Slack is acknowledged (see
        ``interaction_work.py``); False (logged) for a request already stored."""
        stored = queue_interaction(
            self.work.enqueue,
            task,
            payload,
            key=key,
            team_id=team_id,
            where=where,
            apology=apology,
            when_done=when_done,
        )
        if not stored:
            log.info("slack_interaction_duplicate", task=task)
        return stored

    def already_queued(self, key: str) -> bool:
        """Whether this request's work is already stored: a repeated modal submission must not be checked (and
        acted on) a second time before its acknowledgement."""
        stored = self.work.queue.stored(interaction_dedup_key(key))
        if stored:
            log.info("slack_interaction_duplicate", task="view_submission")
        return stored

    # --- timing -------------------------------------------------------------------------------------

    def note_request(self) -> None:
        """A request from Slack has arrived (called by the HTTP route before dispatching it)."""
        self._last_request = time.monotonic()

    def _let_acknowledgements_go_first(self) -> None:
        """Hold slow work back while a burst of requests is arriving, for at most MAX_DEFER_SECONDS.

        Acknowledgements have a hard three-second limit and answers do not; on a small machine the two
        compete for the same cores (and the interpreter lock), so answers wait for a quiet moment.
        """
        deferred_until = time.monotonic() + MAX_DEFER_SECONDS
        while time.monotonic() - self._last_request < QUIET_SECONDS and time.monotonic() < deferred_until:
            time.sleep(QUIET_SECONDS)

    def shutdown(self) -> None:
        self.work.stop()

    # --- saying things -------------------------------------------------------------------------

    def join_thread(self, team_id: str, channel: str, thread_ts: str) -> None:
        """Remember that we answered in this thread, so replies in it are read without a mention."""
        self.processed_events.remember(THREAD_PLATFORM, thread_key(team_id, channel, thread_ts))

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> bool:
        """Open a modal; False (logged) if Slack refused, e.g. because the trigger had expired."""
        try:
            self.client.views_open(trigger_id=trigger_id, view=view)
            return True
        except SlackApiError as error:
            log.warning("slack_view_not_opened", error=error.response.get("error"))
            return False
