"""Runs flows one question at a time, saving the conversation after every answer.

The engine is fed plain text (a chat message, a terminal line, the value of a
pressed button) and answers with a :class:`Turn`: messages to show and the
next :class:`Prompt`. It knows nothing about Slack, Teams or the terminal.

Every answer is written through the conversation store before the reply is
returned, so a server restart mid-conversation resumes at the same question.
A conversation left alone for longer than the idle limit is set aside: the
next message from that officer is told so, and nothing half-finished is kept.

These words work at every question: ``help``, ``back``, ``skip`` (optional
questions only), ``cancel`` and ``restart``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from storage.conversations import StaleConversationError
from workflows.conversation.flow import Completion, Flow, FlowError, FormResult
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
    YesNoStep,
)
from workflows.people import PeopleResolver, PersonRef

__all__ = [
    "ConversationEngine",
    "ConversationStore",
    "ConversationRecord",
    "Prompt",
    "Turn",
    "TurnStatus",
    "COMMANDS",
    "MAX_MESSAGE_CHARS",
]

log = structlog.get_logger(__name__)

# Anything longer is refused before it reaches a step: no question needs more.
MAX_MESSAGE_CHARS = 5000

COMMANDS: dict[str, str] = {
    "help": "explain the current question",
    "back": "go back to the previous question",
    "skip": "leave out an optional question",
    "cancel": "stop without saving anything",
    "restart": "start again from the first question",
}
_ALIASES = {
    "?": "help",
    "go back": "back",
    "previous": "back",
    "stop": "cancel",
    "quit": "cancel",
    "abandon": "cancel",
    "start again": "restart",
    "start over": "restart",
}
# Words that accept the suggested (or current) answer to a question that offers one.
_ACCEPT_WORDS = frozenset(
    {"ok", "okay", "yes", "y", "default", "accept", "use that", "keep", "same", "fine", "that's fine"}
)
_NOTHING_WORDS = frozenset({"none", "no one", "nobody", "n/a", "na", "nothing", "no", "not yet", "none yet"})
_META = "__engine__"


class ConversationRecord(Protocol):
    """One saved conversation, as the storage layer's ``ConversationState`` row holds it."""

    key: str
    flow: str
    step: str | None
    answers: dict[str, Any]
    trail: list[str]
    started_at: datetime
    updated_at: datetime
    version: int


class ConversationStore(Protocol):
    def get(self, key: str) -> Any | None: ...

    def put(self, record: Any) -> Any: ...

    def delete(self, key: str) -> None: ...

    def purge_idle(self, older_than: datetime) -> int: ...


class TurnStatus(str, Enum):
    ASKING = "asking"  # a question is waiting for an answer
    COMPLETED = "completed"  # the flow finished and did its work
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # the conversation had been idle too long and was set aside


@dataclass(frozen=True)
class Prompt:
    """The question now waiting for an answer, in a shape any platform can render."""

    flow: str
    step_id: str
    kind: str
    question: str
    help: str
    required: bool
    options: list[Option]
    suggestion: str | None  # shown as "reply ok to use …"
    number: int
    total: int
    detail: str = ""  # the summary, for the confirmation step

    @property
    def text(self) -> str:
        lines = []
        if self.detail:
            lines.append(self.detail)
        head = f"({self.number}/{self.total}) " if self.kind not in {"confirm", "pick"} else ""
        lines.append(head + self.question)
        if self.options and self.kind not in {"yes_no", "confirm"}:
            lines.append("\n".join(f"  {i}. {o.label}" for i, o in enumerate(self.options, 1)))
        if self.suggestion:
            lines.append(f"Suggested: {self.suggestion} — reply ok to use it.")
        if not self.required and self.kind not in {"confirm", "pick"}:
            lines.append("(Optional: reply skip to leave it out.)")
        return "\n".join(lines)


@dataclass
class Turn:
    status: TurnStatus
    messages: list[str] = field(default_factory=list)
    prompt: Prompt | None = None
    result: Any = None
    flow: str = ""

    @property
    def text(self) -> str:
        parts = list(self.messages)
        if self.prompt is not None:
            parts.append(self.prompt.text)
        return "\n\n".join(parts)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _command(text: str) -> str | None:
    word = re.sub(r"\s+", " ", text).strip().casefold().rstrip(".!")
    if word in COMMANDS:
        return word
    return _ALIASES.get(word)


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold().rstrip(".!")


def _short(label: str, limit: int = 75) -> str:
    # Button-sized: Slack caps button text at 75 characters and long answers would swamp the list.
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _describe_idle(minutes: int) -> str:
    if minutes % (60 * 24) == 0:
        days = minutes // (60 * 24)
        return "a day" if days == 1 else f"{days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "an hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


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
        record_factory: Callable[..., Any] | None = None,
    ) -> None:
        self._store = store
        self._flows = {flow.name: flow for flow in flows}
        self._idle = timedelta(minutes=idle_minutes)
        self._idle_minutes = idle_minutes
        self._zone = ZoneInfo(timezone_name)
        self._clock = clock
        if record_factory is None:
            from storage.conversations import ConversationRecord as record_factory  # noqa: N813
        self._new_record = record_factory

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
        if flow is None or self._expired(record):
            return self._handle_record(record, "", people, actor)
        return Turn(
            TurnStatus.ASKING, [], self._prompt(flow, record, self._ctx(flow, record, people, actor)), flow=flow.name
        )

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
            if existing.flow == flow_name and not self._expired(existing):
                messages.append(f"Starting your {flow.title} again from the beginning.")
        record = self._new_record(key=key, flow=flow.name, step=flow.steps[0].id, answers={}, trail=[], started_at=now)
        try:
            record = self._save(record)
        except StaleConversationError:
            # Two "start" messages raced (a retried event): the other one's conversation stands.
            return self.current(key, people=people, actor=actor) or Turn(TurnStatus.CANCELLED, flow=flow.name)
        log.info("conversation_started", key=key, flow=flow.name)
        if flow.intro:
            messages.append(flow.intro)
        ctx = self._ctx(flow, record, people, actor)
        return Turn(TurnStatus.ASKING, messages, self._prompt(flow, record, ctx), flow=flow.name)

    def handle(
        self, key: str, text: str, *, people: PeopleResolver | None = None, actor: PersonRef | None = None
    ) -> Turn | None:
        """Feed one message to the conversation at ``key``; ``None`` when no conversation is active there."""
        record = self._store.get(key)
        if record is None:
            return None
        try:
            return self._handle_record(record, text, people, actor)
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
        if self._store.get(key) is not None and self._store.get(key).flow == flow_name:
            # The officer may have started the same thing by typing; the form supersedes it.
            self._store.delete(key)
        log.info("conversation_completed", key=key, flow=flow.name, via="form")
        return result, Turn(TurnStatus.COMPLETED, completion.messages, None, completion.result, flow=flow.name)

    def form_fields(self, flow_name: str, *, people: PeopleResolver | None = None, actor: PersonRef | None = None):
        flow = self._flows[flow_name]
        return flow.form_fields(StepContext(today=self.today(), answers={}, people=people, actor=actor))

    # --- the turn ----------------------------------------------------------------

    def _expired(self, record: Any) -> bool:
        return self._clock() - record.updated_at > self._idle

    def _ctx(self, flow: Flow, record: Any, people: PeopleResolver | None, actor: PersonRef | None) -> StepContext:
        answers = flow.load_answers({k: v for k, v in record.answers.items() if k != _META})
        return StepContext(today=self.today(), answers=answers, people=people, actor=actor)

    def _meta(self, record: Any) -> dict[str, Any]:
        return dict(record.answers.get(_META) or {})

    def _set(
        self,
        record: Any,
        *,
        step: str | None = None,
        answers: dict[str, Any] | None = None,
        trail: list[str] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """A copy of ``record`` with the changes: records are immutable, so a failed save leaves nothing half-changed."""
        new_answers = dict(answers if answers is not None else record.answers)
        if meta is not None:
            if meta:
                new_answers[_META] = meta
            else:
                new_answers.pop(_META, None)
        changes: dict[str, Any] = {"answers": new_answers}
        if step is not None:
            changes["step"] = step
        if trail is not None:
            changes["trail"] = list(trail)
        return replace(record, **changes)

    def _save(self, record: Any) -> Any:
        # The store stamps updated_at and the new version; keep what it returns for the next save.
        return self._store.put(record)

    def _handle_record(self, record: Any, text: str, people: PeopleResolver | None, actor: PersonRef | None) -> Turn:
        flow = self._flows.get(record.flow)
        if flow is None:
            self._store.delete(record.key)
            return Turn(
                TurnStatus.CANCELLED, ["The conversation you had started is no longer available, so I've set it aside."]
            )
        if self._expired(record):
            self._store.delete(record.key)
            log.info("conversation_expired", key=record.key, flow=flow.name, step=record.step)
            started = record.started_at.astimezone(self._zone)
            return Turn(
                TurnStatus.EXPIRED,
                [
                    f"Your half-finished {flow.title} (started {started:%d %b %Y at %H:%M}) was set aside after "
                    f"{_describe_idle(self._idle_minutes)} without an answer, so nothing was saved. "
                    f"Say “start a review” to begin again."
                ],
                flow=flow.name,
            )
        step = flow.step(record.step)
        if step is None:
            # The flow changed since this conversation was saved (a council edited its cycle).
            record = self._save(self._set(record, step=flow.steps[0].id, trail=[], meta={}))
            ctx = self._ctx(flow, record, people, actor)
            return Turn(
                TurnStatus.ASKING,
                [
                    "The questions changed since you started, so let's go through them again; your answers are kept as suggestions."
                ],
                self._prompt(flow, record, ctx),
                flow=flow.name,
            )
        ctx = self._ctx(flow, record, people, actor)
        meta = self._meta(record)

        if len(text) > MAX_MESSAGE_CHARS:
            return self._reask(
                flow,
                record,
                ctx,
                f"That message is {len(text):,} characters long, which is more than "
                f"I can take ({MAX_MESSAGE_CHARS:,}). Please send a shorter answer.",
            )

        command = _command(text)
        if command == "cancel":
            self._store.delete(record.key)
            log.info("conversation_cancelled", key=record.key, flow=flow.name, step=step.id)
            return Turn(
                TurnStatus.CANCELLED,
                ["Cancelled. Nothing was saved; say “start a review” whenever you're ready."],
                flow=flow.name,
            )
        if command == "restart":
            record = self._save(self._set(record, step=flow.steps[0].id, answers={}, trail=[], meta={}))
            ctx = self._ctx(flow, record, people, actor)
            return Turn(
                TurnStatus.ASKING,
                ["Starting again from the first question."],
                self._prompt(flow, record, ctx),
                flow=flow.name,
            )
        if command == "help":
            return self._reask(flow, record, ctx, self._help(step, meta))
        if command == "back":
            return self._back(flow, record, ctx, meta, people, actor)

        if meta.get("choosing_edit"):
            return self._choose_edit(flow, record, ctx, text, command)

        skipping = command == "skip" or (
            # "none" to "Who else should be involved?" means skip, not a person called None.
            not step.required and step.kind in {"people", "list", "person"} and _plain(text) in _NOTHING_WORDS
        )
        if skipping and step.required:
            return self._reask(
                flow, record, ctx, "This question can't be skipped. Reply help for an explanation, or cancel to stop."
            )

        pending = meta.get("pending")
        if pending and pending.get("step") == step.id:
            word = _plain(text)
            if word in YES_WORDS or word == "keep":
                return self._accept(flow, record, step, step.load(pending["value"]), ctx, meta, people, actor)
            if word in NO_WORDS:
                meta.pop("pending", None)
                record = self._save(self._set(record, meta=meta))
                return self._reask(flow, record, ctx, "OK. Please give a different answer.")
            # Anything else is a new answer to the same question.
            meta.pop("pending", None)

        options = meta.get("options") or []
        if (
            options
            and text.strip().isdigit()
            and 1 <= int(text.strip()) <= len(options)
            and step.kind not in {"choice"}
        ):
            # A number picks one of the candidates offered after an ambiguous answer.
            text = options[int(text.strip()) - 1]["value"]

        current = ctx.answers.get(step.id)
        suggestion = current if current is not None else step.suggestion(ctx)
        if skipping:
            # Skipping an optional question takes its suggestion (a derived title), if it has one.
            outcome = step.settle(step.suggestion(ctx), ctx)
        elif (
            suggestion is not None and _plain(text) in _ACCEPT_WORDS and not isinstance(step, (YesNoStep, ConfirmStep))
        ):
            outcome = step.settle(suggestion, ctx)
        else:
            outcome = step.validate(text, ctx)
        if isinstance(outcome, Invalid):
            log.info("conversation_answer_refused", key=record.key, flow=flow.name, step=step.id)
            meta["options"] = [{"value": o.value, "label": o.label} for o in outcome.options]
            meta.pop("pending", None)
            record = self._save(self._set(record, meta=meta))
            return self._reask(flow, record, ctx, outcome.message, options=outcome.options)
        if isinstance(outcome, NeedsConfirmation):
            meta["pending"] = {"step": step.id, "value": step.dump(outcome.value)}
            meta.pop("options", None)
            record = self._save(self._set(record, meta=meta))
            return Turn(TurnStatus.ASKING, [outcome.message], self._confirm_prompt(flow, step), flow=flow.name)
        assert isinstance(outcome, Valid)
        if isinstance(step, ConfirmStep):
            if outcome.value:
                return self._finish(flow, record, ctx)
            meta = {"choosing_edit": True}
            record = self._save(self._set(record, meta=meta))
            return Turn(TurnStatus.ASKING, [], self._edit_prompt(flow, ctx), flow=flow.name)
        return self._accept(flow, record, step, outcome.value, ctx, meta, people, actor, echo=outcome.echo)

    # --- moving between steps -------------------------------------------------------

    def _accept(
        self,
        flow: Flow,
        record: Any,
        step: Step,
        value: Any,
        ctx: StepContext,
        meta: dict[str, Any],
        people: PeopleResolver | None,
        actor: PersonRef | None,
        echo: str | None = None,
    ) -> Turn:
        stored = {k: v for k, v in record.answers.items() if k != _META}
        stored[step.id] = step.dump(value)
        editing = bool(meta.get("editing"))
        answers = dict(ctx.answers)
        answers[step.id] = value
        next_step, reason = self._next_step(flow, step, answers, ctx, editing)
        trail = list(record.trail or []) + [step.id]
        new_meta: dict[str, Any] = {"editing": True} if editing and not isinstance(next_step, ConfirmStep) else {}
        if isinstance(reason, NeedsConfirmation):
            new_meta["pending"] = {"step": next_step.id, "value": next_step.dump(reason.value)}
        record = self._save(self._set(record, step=next_step.id, answers=stored, trail=trail, meta=new_meta))
        log.info("conversation_answered", key=record.key, flow=flow.name, step=step.id, next_step=next_step.id)
        new_ctx = self._ctx(flow, record, people, actor)
        messages = [f"Got it: {echo}."] if echo else []
        if isinstance(reason, NeedsConfirmation):
            messages.append(reason.message)
            return Turn(TurnStatus.ASKING, messages, self._confirm_prompt(flow, next_step), flow=flow.name)
        if isinstance(reason, Invalid):
            messages.append(f"That changes “{next_step.name}”: {reason.message}")
        return Turn(TurnStatus.ASKING, messages, self._prompt(flow, record, new_ctx), flow=flow.name)

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

    def _confirm_prompt(self, flow: Flow, step: Step) -> Prompt:
        return Prompt(
            flow.name,
            step.id,
            "yes_no",
            "Reply yes to keep it, or type a different answer.",
            step.help,
            True,
            [Option("yes", "Keep it"), Option("no", "Change it")],
            None,
            0,
            0,
        )

    def _back(
        self,
        flow: Flow,
        record: Any,
        ctx: StepContext,
        meta: dict[str, Any],
        people: PeopleResolver | None,
        actor: PersonRef | None,
    ) -> Turn:
        if meta.get("choosing_edit"):
            record = self._save(self._set(record, meta={}))
            return Turn(TurnStatus.ASKING, [], self._prompt(flow, record, ctx), flow=flow.name)
        trail = list(record.trail or [])
        if not trail:
            return self._reask(flow, record, ctx, "This is the first question, so there's nothing to go back to.")
        previous = trail.pop()
        record = self._save(self._set(record, step=previous, trail=trail, meta={}))
        ctx = self._ctx(flow, record, people, actor)
        return Turn(TurnStatus.ASKING, ["Going back."], self._prompt(flow, record, ctx), flow=flow.name)

    def _choose_edit(self, flow: Flow, record: Any, ctx: StepContext, text: str, command: str | None) -> Turn:
        questions = flow.questions
        wanted = _plain(text)
        chosen: Step | None = None
        if wanted.isdigit() and 1 <= int(wanted) <= len(questions):
            chosen = questions[int(wanted) - 1]
        else:
            matches = [s for s in questions if wanted and wanted in s.name.casefold()]
            chosen = matches[0] if len(matches) == 1 else None
        if chosen is None:
            return Turn(
                TurnStatus.ASKING,
                ["Please reply with the number of the answer to change, or back to return to the summary."],
                self._edit_prompt(flow, ctx),
                flow=flow.name,
            )
        trail = list(record.trail or []) + [flow.confirm_step.id]
        record = self._save(self._set(record, step=chosen.id, trail=trail, meta={"editing": True}))
        return Turn(TurnStatus.ASKING, [], self._prompt(flow, record, ctx), flow=flow.name)

    def _finish(self, flow: Flow, record: Any, ctx: StepContext) -> Turn:
        missing = [s for s in flow.questions if s.required and ctx.answers.get(s.id) is None]
        if missing:
            first = missing[0]
            record = self._save(self._set(record, step=first.id, meta={"editing": True}))
            return Turn(
                TurnStatus.ASKING,
                [f"I still need an answer to “{first.name}”."],
                self._prompt(flow, record, ctx),
                flow=flow.name,
            )
        try:
            completion: Completion = flow.finish(ctx.answers, ctx)
        except FlowError as error:
            log.info("conversation_finish_refused", key=record.key, flow=flow.name)
            return Turn(TurnStatus.ASKING, [str(error)], self._prompt(flow, record, ctx), flow=flow.name)
        self._store.delete(record.key)
        log.info("conversation_completed", key=record.key, flow=flow.name, via="chat")
        return Turn(TurnStatus.COMPLETED, completion.messages, None, completion.result, flow=flow.name)

    # --- prompts --------------------------------------------------------------------

    def _reask(
        self, flow: Flow, record: Any, ctx: StepContext, message: str, options: list[Option] | None = None
    ) -> Turn:
        meta = self._meta(record)
        if meta.get("choosing_edit"):
            return Turn(TurnStatus.ASKING, [message], self._edit_prompt(flow, ctx), flow=flow.name)
        prompt = self._prompt(flow, record, ctx)
        if options:
            prompt = Prompt(
                prompt.flow,
                prompt.step_id,
                "pick",
                "Reply with a number, or type another answer.",
                prompt.help,
                prompt.required,
                options,
                None,
                prompt.number,
                prompt.total,
            )
        return Turn(TurnStatus.ASKING, [message], prompt, flow=flow.name)

    def _prompt(self, flow: Flow, record: Any, ctx: StepContext) -> Prompt:
        step = flow.step(record.step) or flow.steps[0]
        questions = flow.questions
        if isinstance(step, ConfirmStep):
            return Prompt(
                flow.name,
                step.id,
                step.kind,
                step.label,
                step.help,
                True,
                step.options(ctx),
                None,
                len(questions),
                len(questions),
                detail=flow.summary(ctx.answers),
            )
        current = ctx.answers.get(step.id)
        suggestion = current if current is not None else step.suggestion(ctx)
        return Prompt(
            flow=flow.name,
            step_id=step.id,
            kind=step.kind,
            question=step.label,
            help=step.help,
            required=step.required,
            options=step.options(ctx),
            suggestion=None if suggestion is None else step.display(suggestion),
            number=questions.index(step) + 1,
            total=len(questions),
        )

    def _edit_prompt(self, flow: Flow, ctx: StepContext) -> Prompt:
        options = [
            Option(str(i), _short(f"{s.name}: {s.display(ctx.answers.get(s.id))}"))
            for i, s in enumerate(flow.questions, 1)
        ]
        return Prompt(
            flow.name,
            flow.confirm_step.id,
            "pick",
            "Which answer would you like to change? Reply with its number.",
            "",
            True,
            options,
            None,
            0,
            0,
        )

    def _help(self, step: Step, meta: dict[str, Any]) -> str:
        if meta.get("choosing_edit"):
            return "Reply with the number of the answer you'd like to change, or back to return to the summary."
        lines = [step.help or "Please answer the question below."]
        usable = [f"{word} ({what})" for word, what in COMMANDS.items() if word != "skip" or not step.required]
        lines.append("You can also type: " + ", ".join(usable) + ".")
        return "\n".join(lines)
