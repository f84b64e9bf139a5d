"""Runs flows one question at a time, saving the conversation after every answer.

The engine is fed plain text (a chat message, a terminal line, the value of a
pressed button) and answers with a :class:`~workflows.conversation.turns.Turn`:
messages to show and the next :class:`~workflows.conversation.turns.Prompt`. It
knows nothing about Slack, Teams or the terminal.

Every answer is written through the conversation store before the reply is
returned, so a server restart mid-conversation resumes at the same question.
A conversation left alone for longer than the idle limit is set aside: the
next message from that officer is told so, and nothing half-finished is kept.

The words of :mod:`workflows.conversation.commands` (``help``, ``back``,
``skip``, ``cancel``, ``restart``, and ``change`` at the summary) steer the
conversation at every question; anything else is an answer to the question.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from storage.conversations import ConversationRecord, StaleConversationError
from workflows.conversation.commands import COMMANDS
from workflows.conversation.flow import Flow, FlowError, FormField, FormResult
from workflows.conversation.reading import MAX_MESSAGE_CHARS, ConversationStore, MessageReader
from workflows.conversation.steps import StepContext
from workflows.conversation.turns import Turn, TurnStatus
from workflows.people import PeopleResolver, PersonRef

__all__ = ["COMMANDS", "MAX_MESSAGE_CHARS", "ConversationEngine", "ConversationStore", "utc_now"]

log = structlog.get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ConversationEngine:
    """Runs the registered flows for many officers at once, one saved state per conversation key.

    A conversation key names where the officer is talking, e.g.
    ``"slack:T1:U1:1700000000.1234"`` or ``"terminal:alice@council.gov.uk"``.
    """

    def __init__(
        self,
        store: ConversationStore,
        flows: Iterable[Flow],
        *,
        idle_minutes: int,
        timezone_name: str = "Europe/London",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._flows = {flow.name: flow for flow in flows}
        self._idle = timedelta(minutes=idle_minutes)
        self._zone = ZoneInfo(timezone_name)
        self._clock = clock
        self._reader = MessageReader(store, idle_minutes=idle_minutes, zone=self._zone, clock=clock)

    # --- public API ---------------------------------------------------------

    @property
    def flows(self) -> Mapping[str, Flow]:
        return self._flows

    def today(self) -> date:
        return self._clock().astimezone(self._zone).date()

    def is_active(self, key: str) -> bool:
        """Whether a conversation is waiting for this key (an idle one counts until it is next touched)."""
        return self._store.get(key) is not None

    def current(self, key: str, *, people: PeopleResolver | None = None, actor: PersonRef | None = None) -> Turn | None:
        """The question waiting for this key, without changing anything (used to re-show it)."""
        record = self._store.get(key)
        if record is None:
            return None
        flow = self._flows.get(record.flow)
        if flow is None or self._reader.expired(record):
            return self._reader.read(self._flows.get(record.flow), record, "", people, actor)
        ctx = self._reader.context(flow, record, people, actor)
        return Turn(TurnStatus.ASKING, [], self._reader.prompt(flow, record, ctx), flow=flow.name)

    def start(
        self, key: str, flow_name: str, *, people: PeopleResolver | None = None, actor: PersonRef | None = None
    ) -> Turn:
        """Begin a flow for this key, replacing any conversation already there."""
        flow = self._flows[flow_name]
        existing = self._store.get(key)
        now = self._clock()
        messages: list[str] = []
        if existing is not None:
            self._store.delete(key)
            if existing.flow == flow_name and not self._reader.expired(existing):
                messages.append(f"Starting your {flow.title} again from the beginning.")
        record = ConversationRecord(key=key, flow=flow.name, step=flow.steps[0].id, started_at=now)
        try:
            record = self._store.put(record)
        except StaleConversationError:
            # Two "start" messages raced (a retried event): the other one's conversation stands.
            return self.current(key, people=people, actor=actor) or Turn(TurnStatus.CANCELLED, flow=flow.name)
        log.info("conversation_started", key=key, flow=flow.name)
        if flow.intro:
            messages.append(flow.intro)
        ctx = self._reader.context(flow, record, people, actor)
        return Turn(TurnStatus.ASKING, messages, self._reader.prompt(flow, record, ctx), flow=flow.name)

    def handle(
        self, key: str, text: str, *, people: PeopleResolver | None = None, actor: PersonRef | None = None
    ) -> Turn | None:
        """Feed one message to the conversation at ``key``; ``None`` when no conversation is active there."""
        record = self._store.get(key)
        if record is None:
            return None
        try:
            return self._reader.read(self._flows.get(record.flow), record, text, people, actor)
        except StaleConversationError:
            # Another message for the same conversation was saved first (a retry, a double click).
            log.warning("conversation_answer_crossed", key=key)
            current = self.current(key, people=people, actor=actor)
            if current is None:
                return Turn(TurnStatus.CANCELLED, ["That conversation has already finished."])
            current.messages.insert(
                0, "That answer crossed with another message of yours, so I didn't use it. Here is where we are:"
            )
            return current

    def cancel(self, key: str) -> bool:
        if self._store.get(key) is None:
            return False
        self._store.delete(key)
        log.info("conversation_cancelled", key=key)
        return True

    def purge_idle(self) -> int:
        """Housekeeping: delete conversations idle for twice the limit (officers returning sooner are told)."""
        removed = self._store.purge_idle(self._clock() - 2 * self._idle)
        if removed:
            log.info("conversations_purged", count=removed)
        return removed

    def submit_form(
        self,
        key: str,
        flow_name: str,
        values: Mapping[str, str],
        *,
        people: PeopleResolver | None = None,
        actor: PersonRef | None = None,
        confirmed: Collection[str] = (),
    ) -> tuple[FormResult, Turn | None]:
        """Check a whole form (a Slack modal, a Teams card) and, when every field is fine, finish the flow.

        Returns the per-field result and, when the flow finished (or failed in
        a way the officer must be told about), the turn to show them.
        """
        flow = self._flows[flow_name]
        ctx = StepContext(today=self.today(), answers={}, people=people, actor=actor)
        result = flow.validate_form(values, ctx, confirmed)
        if not result.ok:
            return result, None
        try:
            completion = flow.finish(result.answers, ctx)
        except FlowError as error:
            return result, Turn(TurnStatus.ASKING, [str(error)], None, flow=flow.name)
        existing = self._store.get(key)
        if existing is not None and existing.flow == flow_name:
            # The officer may have started the same thing by typing; the form supersedes it.
            self._store.delete(key)
        log.info("conversation_completed", key=key, flow=flow.name, via="form")
        return result, Turn(TurnStatus.COMPLETED, completion.messages, None, completion.result, flow=flow.name)

    def form_fields(
        self, flow_name: str, *, people: PeopleResolver | None = None, actor: PersonRef | None = None
    ) -> list[FormField]:
        flow = self._flows[flow_name]
        return flow.form_fields(StepContext(today=self.today(), answers={}, people=people, actor=actor))

    # --- the turn: what a message means --------------------------------------------
