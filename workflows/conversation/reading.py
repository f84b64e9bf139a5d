"""Reading one message in a saved conversation: a command that steers it, or an answer to its question.

:class:`MessageReader` is the engine's state machine (``workflows/conversation/engine.py`` keeps the
public entry points). Every change is saved through the conversation store before the turn is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from storage.conversations import ConversationRecord
from workflows.conversation.commands import command_for, help_text
from workflows.conversation.flow import Completion, Flow, FlowError
from workflows.conversation.prompts import confirm_prompt, edit_prompt, pick_prompt, step_prompt
from workflows.conversation.state import EngineState, PendingAnswer, answers_only, with_state
from workflows.conversation.steps import (
    NO_WORDS,
    YES_WORDS,
    ConfirmStep,
    Invalid,
    NeedsConfirmation,
    Option,
    Step,
    StepContext,
    Valid,
    Validation,
    YesNoStep,
    normalise,
)
from workflows.conversation.turns import Prompt, Turn, TurnStatus
from workflows.people import PeopleResolver, PersonRef

__all__ = ["MAX_MESSAGE_CHARS", "ConversationStore", "MessageReader"]

log = structlog.get_logger(__name__)

# Anything longer is refused before it reaches a step: no question needs more.
MAX_MESSAGE_CHARS = 5000

# Words that accept the suggested (or current) answer to a question that offers one.
_ACCEPT_WORDS = frozenset(
    {"ok", "okay", "yes", "y", "default", "accept", "use that", "keep", "same", "fine", "that's fine"}
)
_NOTHING_WORDS = frozenset({"none", "no one", "nobody", "n/a", "na", "nothing", "no", "not yet", "none yet"})


class ConversationStore(Protocol):
    """Where conversations wait between answers (``storage/conversations.py``)."""

    def get(self, key: str) -> ConversationRecord | None: ...

    def put(self, record: ConversationRecord) -> ConversationRecord: ...

    def delete(self, key: str) -> bool: ...

    def purge_idle(self, older_than: datetime | timedelta) -> int: ...


def _describe_idle(minutes: int) -> str:
    if minutes % (60 * 24) == 0:
        days = minutes // (60 * 24)
        return "a day" if days == 1 else f"{days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "an hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def _means_nothing(step: Step, text: str) -> bool:
    """Whether the answer means "skip": "none" to "Who else should be involved?" is not a person called None."""
    return not step.required and step.kind in {"people", "list", "person"} and normalise(text) in _NOTHING_WORDS


@dataclass(frozen=True)
class _Conversation:
    """One conversation as a message arrives: its flow, saved record, current step and what the steps may use."""

    flow: Flow
    record: ConversationRecord
    step: Step
    ctx: StepContext
    state: EngineState
    people: PeopleResolver | None
    actor: PersonRef | None

    @property
    def key(self) -> str:
        return self.record.key

    def asking(self, messages: list[str], prompt: Prompt | None) -> Turn:
        return Turn(TurnStatus.ASKING, messages, prompt, flow=self.flow.name)


def _picked(c: _Conversation, text: str) -> str:
    """A number picks one of the candidates offered after an ambiguous answer; anything else stands as typed."""
    picked, options = text.strip(), c.state.options
    if options and picked.isdigit() and 1 <= int(picked) <= len(options) and c.step.kind != "choice":
        return options[int(picked) - 1].value
    return text


class MessageReader:
    def __init__(
        self, store: ConversationStore, *, idle_minutes: int, zone: ZoneInfo, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._idle = timedelta(minutes=idle_minutes)
        self._idle_minutes = idle_minutes
        self._zone = zone
        self._clock = clock
        # What each command does; "skip" is an answer of its own kind (see _answer).
        self._commands: dict[str, Callable[[_Conversation], Turn]] = {
            "help": self._help,
            "back": self._back,
            "cancel": self._cancel,
            "restart": self._restart,
            "change": self._change,
        }

    def today(self) -> date:
        return self._clock().astimezone(self._zone).date()

    def expired(self, record: ConversationRecord) -> bool:
        return record.updated_at is not None and self._clock() - record.updated_at > self._idle

    def context(
        self, flow: Flow, record: ConversationRecord, people: PeopleResolver | None, actor: PersonRef | None
    ) -> StepContext:
        answers = flow.load_answers(answers_only(record.answers))
        return StepContext(today=self.today(), answers=answers, people=people, actor=actor)

    def save(
        self,
        record: ConversationRecord,
        state: EngineState,
        *,
        step: str | None = None,
        answers: Mapping[str, Any] | None = None,
        trail: list[str] | None = None,
    ) -> ConversationRecord:
        """Save a copy of ``record`` with the changes (records are immutable, so a failed save leaves nothing
        half-changed); the store stamps updated_at and the new version, which the next save must carry."""
        changed = replace(
            record,
            answers=with_state(answers if answers is not None else record.answers, state),
            step=step if step is not None else record.step,
            trail=list(trail) if trail is not None else record.trail,
        )
        return self._store.put(changed)

    def read(
        self,
        flow: Flow | None,
        record: ConversationRecord,
        text: str,
        people: PeopleResolver | None,
        actor: PersonRef | None,
    ) -> Turn:
        """What ``text`` means in the conversation ``record`` (of ``flow``, None when the flow is gone)."""
        if flow is None:
            self._store.delete(record.key)
            return Turn(
                TurnStatus.CANCELLED,
                ["The conversation you had started is no longer available, so I've set it aside."],
            )
        if self.expired(record):
            return self._set_aside(record, flow)
        step = flow.step(record.step)
        if step is None:
            return self._questions_changed(record, flow, people, actor)
        state = EngineState.from_answers(record.answers)
        conversation = _Conversation(
            flow, record, step, self.context(flow, record, people, actor), state, people, actor
        )
        if len(text) > MAX_MESSAGE_CHARS:
            return self._reask(
                conversation,
                f"That message is {len(text):,} characters long, which is more than "
                f"I can take ({MAX_MESSAGE_CHARS:,}). Please send a shorter answer.",
            )
        command = command_for(text, at_summary=isinstance(step, ConfirmStep) and not state.choosing_edit)
        if command is not None and command.name in self._commands:
            return self._commands[command.name](conversation)
        if state.choosing_edit:
            return self._choose_edit(conversation, text)
        return self._answer(conversation, text, skipping=command is not None and command.name == "skip")

    def _set_aside(self, record: ConversationRecord, flow: Flow) -> Turn:
        self._store.delete(record.key)
        log.info("conversation_expired", key=record.key, flow=flow.name, step=record.step)
        started = (record.started_at or self._clock()).astimezone(self._zone)
        return Turn(
            TurnStatus.EXPIRED,
            [
                f"Your half-finished {flow.title} (started {started:%d %b %Y at %H:%M}) was set aside after "
                f"{_describe_idle(self._idle_minutes)} without an answer, so nothing was saved. "
                f"Say “start a review” to begin again."
            ],
            flow=flow.name,
        )

    def _questions_changed(
        self, record: ConversationRecord, flow: Flow, people: PeopleResolver | None, actor: PersonRef | None
    ) -> Turn:
        # The flow changed since this conversation was saved (a council edited its cycle).
        record = self.save(record, EngineState(), step=flow.steps[0].id, trail=[])
        return Turn(
            TurnStatus.ASKING,
            [
                "The questions changed since you started, so let's go through them again; "
                "your answers are kept as suggestions."
            ],
            self.prompt(flow, record, self.context(flow, record, people, actor)),
            flow=flow.name,
        )

    # --- the commands --------------------------------------------------------------------

    def _cancel(self, c: _Conversation) -> Turn:
        self._store.delete(c.key)
        log.info("conversation_cancelled", key=c.key, flow=c.flow.name, step=c.step.id)
        return Turn(
            TurnStatus.CANCELLED,
            ["Cancelled. Nothing was saved; say “start a review” whenever you're ready."],
            flow=c.flow.name,
        )

    def _restart(self, c: _Conversation) -> Turn:
        record = self.save(c.record, EngineState(), step=c.flow.steps[0].id, answers={}, trail=[])
        ctx = self.context(c.flow, record, c.people, c.actor)
        return c.asking(["Starting again from the first question."], self.prompt(c.flow, record, ctx))

    def _help(self, c: _Conversation) -> Turn:
        if c.state.choosing_edit:
            return self._reask(
                c, "Reply with the number of the answer you'd like to change, or back to return to the summary."
            )
        return self._reask(c, help_text(c.step, at_summary=isinstance(c.step, ConfirmStep)))

    def _back(self, c: _Conversation) -> Turn:
        if c.state.choosing_edit:
            record = self.save(c.record, EngineState())
            return c.asking([], self.prompt(c.flow, record, c.ctx))
        trail = list(c.record.trail or [])
        if not trail:
            return self._reask(c, "This is the first question, so there's nothing to go back to.")
        previous = trail.pop()
        record = self.save(c.record, EngineState(), step=previous, trail=trail)
        ctx = self.context(c.flow, record, c.people, c.actor)
        return c.asking(["Going back."], self.prompt(c.flow, record, ctx))

    def _change(self, c: _Conversation) -> Turn:
        """At the summary, "change" (or "no"): which answer?"""
        self.save(c.record, EngineState(choosing_edit=True))
        return c.asking([], edit_prompt(c.flow, c.ctx))

    def _choose_edit(self, c: _Conversation, text: str) -> Turn:
        questions = c.flow.questions
        wanted = normalise(text)
        chosen: Step | None = None
        if wanted.isdigit() and 1 <= int(wanted) <= len(questions):
            chosen = questions[int(wanted) - 1]
        else:
            matches = [s for s in questions if wanted and wanted in s.name.casefold()]
            chosen = matches[0] if len(matches) == 1 else None
        if chosen is None:
            message = "Please reply with the number of the answer to change, or back to return to the summary."
            return c.asking([message], edit_prompt(c.flow, c.ctx))
        trail = list(c.record.trail or []) + [c.flow.confirm_step.id]
        record = self.save(c.record, EngineState(editing=True), step=chosen.id, trail=trail)
        return c.asking([], self.prompt(c.flow, record, c.ctx))

    # --- answers -----------------------------------------------------------------------------

    def _answer(self, c: _Conversation, text: str, *, skipping: bool) -> Turn:
        skipping = skipping or _means_nothing(c.step, text)
        if skipping and c.step.required:
            return self._reask(c, "This question can't be skipped. Reply help for an explanation, or cancel to stop.")
        if c.state.pending is not None and c.state.pending.step == c.step.id:
            decided = self._decide_pending(c, c.state.pending, text)
            if isinstance(decided, Turn):
                return decided
            c = decided  # anything but yes or no is a new answer to the same question
        return self._settle(c, self._outcome(c, _picked(c, text), skipping=skipping))

    def _decide_pending(self, c: _Conversation, pending: PendingAnswer, text: str) -> Turn | _Conversation:
        """An answer worth a second look is waiting: "yes" keeps it, "no" asks again."""
        word = normalise(text)
        if word in YES_WORDS or word == "keep":
            return self._accept(c, c.step.load(pending.value))
        state = replace(c.state, pending=None)
        if word in NO_WORDS:
            record = self.save(c.record, state)
            return self._reask(replace(c, record=record, state=state), "OK. Please give a different answer.")
        return replace(c, state=state)

    def _settle(self, c: _Conversation, outcome: Validation) -> Turn:
        step = c.step
        if isinstance(outcome, Invalid):
            log.info("conversation_answer_refused", key=c.key, flow=c.flow.name, step=step.id)
            state = replace(c.state, options=tuple(outcome.options), pending=None)
            record = self.save(c.record, state)
            return self._reask(replace(c, record=record, state=state), outcome.message, options=outcome.options)
        if isinstance(outcome, NeedsConfirmation):
            state = replace(c.state, pending=PendingAnswer(step.id, step.dump(outcome.value)), options=())
            self.save(c.record, state)
            return c.asking([outcome.message], confirm_prompt(c.flow, step))
        if isinstance(step, ConfirmStep):
            return self._finish(c) if outcome.value else self._change(c)
        return self._accept(c, outcome.value, echo=outcome.echo)

    def _outcome(self, c: _Conversation, text: str, *, skipping: bool) -> Validation:
        """What the answer is worth: a skip takes the step's suggestion; "ok" accepts the answer shown."""
        step = c.step
        if skipping:
            # Skipping an optional question takes its suggestion (a derived title), if it has one.
            return step.settle(step.suggestion(c.ctx), c.ctx)
        current = c.ctx.answers.get(step.id)
        suggestion = step.offered(current, c.ctx)
        if (
            suggestion is not None
            and normalise(text) in _ACCEPT_WORDS
            and not isinstance(step, YesNoStep | ConfirmStep)
        ):
            return step.settle(suggestion, c.ctx)
        return step.validate(text, c.ctx)

    def _accept(self, c: _Conversation, value: Any, echo: str | None = None) -> Turn:
        flow, step = c.flow, c.step
        stored = answers_only(c.record.answers)
        stored[step.id] = step.dump(value)
        answers = dict(c.ctx.answers)
        answers[step.id] = value
        next_step, reason = self._next_step(flow, step, answers, c.ctx, c.state.editing)
        trail = list(c.record.trail or []) + [step.id]
        state = EngineState(editing=c.state.editing and not isinstance(next_step, ConfirmStep))
        if isinstance(reason, NeedsConfirmation):
            state = replace(state, pending=PendingAnswer(next_step.id, next_step.dump(reason.value)))
        record = self.save(c.record, state, step=next_step.id, answers=stored, trail=trail)
        log.info("conversation_answered", key=record.key, flow=flow.name, step=step.id, next_step=next_step.id)
        messages = [f"Got it: {echo}."] if echo else []
        if isinstance(reason, NeedsConfirmation):
            messages.append(reason.message)
            return c.asking(messages, confirm_prompt(flow, next_step))
        if isinstance(reason, Invalid):
            messages.append(f"That changes “{next_step.name}”: {reason.message}")
        ctx = self.context(flow, record, c.people, c.actor)
        return c.asking(messages, self.prompt(flow, record, ctx))

    def _next_step(
        self, flow: Flow, step: Step, answers: Mapping[str, Any], ctx: StepContext, editing: bool
    ) -> tuple[Step, Invalid | NeedsConfirmation | None]:
        position = flow.index(step.id)
        if not editing:
            return flow.steps[position + 1], None
        # After changing one answer from the summary, only revisit later answers that no longer
        # hold, or that now deserve a second look (a title that duplicates one for the new service).
        check_ctx = StepContext(today=ctx.today, answers=answers, people=ctx.people, actor=ctx.actor)
        for later in flow.questions[position + 1 :]:
            if later.id not in answers:
                if later.required:
                    return later, None
                continue
            outcome = later.settle(answers[later.id], check_ctx)
            if not isinstance(outcome, Valid):
                return later, outcome
        return flow.confirm_step, None

    def _finish(self, c: _Conversation) -> Turn:
        flow = c.flow
        missing = [s for s in flow.questions if s.required and c.ctx.answers.get(s.id) is None]
        if missing:
            first = missing[0]
            record = self.save(c.record, EngineState(editing=True), step=first.id)
            return c.asking([f"I still need an answer to “{first.name}”."], self.prompt(flow, record, c.ctx))
        try:
            completion: Completion = flow.finish(c.ctx.answers, c.ctx)
        except FlowError as error:
            log.info("conversation_finish_refused", key=c.key, flow=flow.name)
            return c.asking([str(error)], self.prompt(flow, c.record, c.ctx))
        self._store.delete(c.key)
        log.info("conversation_completed", key=c.key, flow=flow.name, via="chat")
        return Turn(TurnStatus.COMPLETED, completion.messages, None, completion.result, flow=flow.name)

    def _reask(self, c: _Conversation, message: str, options: list[Option] | None = None) -> Turn:
        """The same question again (or the list of answers to change), after ``message``."""
        if c.state.choosing_edit:
            return c.asking([message], edit_prompt(c.flow, c.ctx))
        prompt = self.prompt(c.flow, c.record, c.ctx)
        return c.asking([message], pick_prompt(prompt, options) if options else prompt)

    @staticmethod
    def prompt(flow: Flow, record: ConversationRecord, ctx: StepContext) -> Prompt:
        return step_prompt(flow, record.step, ctx)
