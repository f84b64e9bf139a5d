"""The chat core every platform shares: one officer's message in, replies out.

Slack, Teams and the terminal all call :meth:`Dialogue.handle` with a
:class:`UserContext` (who is talking, where, and how to resolve the people
they mention) and the text they sent; a pressed button sends its value the
same way. Routing, in order:

1. a guided conversation is under way for this conversation key: the text
   answers its current question (a question ending in "?" about a person, a
   date or a choice is answered from the guidance instead, then the pending
   question is shown again);
2. "start a review" / "new review": the review conversation begins;
3. "help": what the assistant can do;
4. anything else is a question for the guidance.

The one-screen wizard (a Slack modal, a Teams card) uses :meth:`review_form`
and :meth:`submit_review_form`, which apply exactly the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import structlog

from storage.answer_log import AnswerLog
from storage.conversations import SqlConversationStore
from storage.db import Database
from storage.people import PeopleRepository
from storage.review_snapshots import ReviewSummary
from workflows.actions import Actions
from workflows.conversation import ConversationEngine, Turn, TurnStatus
from workflows.conversation.engine import utc_now
from workflows.cycle import cycle_from_settings
from workflows.dates import format_date
from workflows.guidance_questions import GuidanceQuestions, KnowledgeSource
from workflows.people import DirectoryPeopleResolver, PeopleResolver, PersonRef
from workflows.replies import Button, FormSpec, Reply, ReplyKind
from workflows.review_flow import REVIEW_FLOW, build_review_flow
from workflows.reviews import ReviewNotFoundError, ReviewService
from workflows.settings import WorkflowSettings

__all__ = [
    "Dialogue",
    "UserContext",
    "FormSubmission",
    "HELP_TEXT",
    "build_dialogue",
    "directory_user",
]

log = structlog.get_logger(__name__)

HELP_TEXT = (
    "I can help with commissioning in two ways:\n"
    "• Ask me a question about the guidance, e.g. “Who approves sourcing decisions?” or "
    "“What should the Analyse stage cover?” I'll quote the passage I'm relying on.\n"
    "• Say “start a review” and I'll walk you through setting up a commissioning review: the service, "
    "outcomes for residents, level, lead commissioner, portfolio holder, stage owners and due dates, "
    "and stakeholders.\n"
    "• Say “my reviews” to see the reviews you're part of, “status 12” for one review, or “roles” for who does what.\n"
    "While setting up a review you can type help, back, skip (optional questions), cancel or restart at any point."
)

_START_REVIEW = re.compile(
    r"^(?:(?:please|can you|could you|i(?:'d| would) like to|i want to|let's|lets)\s+)*"
    r"(?:start|new|create|begin|set ?up|open|add|make)\b(?:\s+(?:a|an|the|another|new|commissioning))*\s+review\b",
    re.IGNORECASE,
)
# Mid-conversation only the bare request counts: "New review process for libraries" may be a service's name.
_START_REVIEW_ALONE = re.compile(_START_REVIEW.pattern + r"[\s.!]*$", re.IGNORECASE)
_HELP = re.compile(r"^(?:help|\?|what can you do\??|commands|menu|how does this work\??)$", re.IGNORECASE)
_MY_REVIEWS = re.compile(r"^(?:(?:show|list)\s+)?(?:my\s+)?reviews|(?:show|list)\s+(?:my\s+)?reviews$", re.IGNORECASE)
_STATUS = re.compile(r"^(?:status|show)(?:\s+of)?(?:\s+review)?\s+#?(\d{1,9})[.!?]?$", re.IGNORECASE)
_ROLES = re.compile(r"^(?:roles|list roles|who does what\??)$", re.IGNORECASE)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks|thank you|cheers)\b[\s!.,]*$", re.IGNORECASE
)
_CANCEL = re.compile(r"^(?:cancel|stop|quit|restart|back|skip)[.!]?$", re.IGNORECASE)
_ASIDE_KINDS = {"person", "people", "date", "choice", "yes_no", "confirm"}

GREETING = "Hello! Ask me about commissioning, or say “start a review”. Type help to see what I can do."
NOTHING_UNDER_WAY = (
    "There's nothing under way to stop or change. Say “start a review” to begin one, or ask me a question."
)
ALREADY_SETTING_UP = (
    "You're already setting up a review; here's where we are (say restart to begin again, or cancel to stop)."
)


@dataclass(frozen=True)
class UserContext:
    """Who is talking and where.

    ``conversation_key`` scopes a guided conversation: a Slack thread, a Teams
    chat, a terminal user. ``people`` resolves the mentions this platform writes.
    """

    platform: str
    conversation_key: str
    people: PeopleResolver
    person: PersonRef | None = None
    display_name: str = ""


@dataclass(frozen=True)
class FormSubmission:
    """The result of submitting the wizard: per-field errors to show, or the replies once created."""

    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)
    created: object | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and not self.warnings and self.created is not None


# What a routed message gets back: the replies, from the officer and what their message matched.
_Answer = Callable[[UserContext, re.Match[str]], list[Reply]]


class Dialogue:
    def __init__(
        self,
        engine: ConversationEngine,
        knowledge: KnowledgeSource | Callable[[], KnowledgeSource] | None,
        *,
        people: PeopleRepository | None = None,
        reviews: ReviewService | None = None,
        answer_log: AnswerLog | None = None,
    ) -> None:
        self._engine = engine
        self.engine = engine
        # Kept for adapters: they look up the person behind a platform user and list reviews.
        self.people = people
        self.reviews = reviews
        # Every guidance answer and its rating, without identity (storage/answer_log.py); None: nothing is logged.
        self.answer_log = answer_log
        self._guidance = GuidanceQuestions(knowledge, answer_log)
        self._routes = self._message_routes()

    # --- the one entry point for messages -------------------------------------------

    def handle(self, user: UserContext, text: str) -> list[Reply]:
        text = (text or "").strip()
        current = self._engine.current(user.conversation_key, people=user.people, actor=user.person)
        if current is not None:
            replies = self._in_conversation(user, current, text)
            if replies is not None:
                return replies
        if not text:
            return [Reply(HELP_TEXT)]
        for matches, answer in self._routes:
            if match := matches(text):
                return answer(user, match)
        return self._ask(user, text)

    def _in_conversation(self, user: UserContext, current: Turn, text: str) -> list[Reply] | None:
        """The replies when the text belongs to the conversation under way; None when the conversation has
        finished with it and it is read as a message of its own."""
        if current.status is not TurnStatus.ASKING:
            # Set aside after idling: say so, rather than read the message as an answer or a question.
            replies = [self._turn_reply(current)]
            if _START_REVIEW.match(text):
                replies += self.start_review(user)
            return replies
        if current.prompt is not None:
            if _START_REVIEW_ALONE.match(text):
                return [self._turn_reply(current, lead=ALREADY_SETTING_UP)]
            if self._is_aside(text, current.prompt.kind):
                replies = self._ask(user, text)
                replies.append(self._turn_reply(current, lead="Back to your review:"))
                return replies
        turn = self._engine.handle(user.conversation_key, text, people=user.people, actor=user.person)
        return [self._turn_reply(turn)] if turn is not None else None

    def _message_routes(self) -> list[tuple[Callable[[str], re.Match[str] | None], _Answer]]:
        """Messages outside a conversation, in the order they are tried; anything else is a guidance question."""
        return [
            (_START_REVIEW.match, lambda user, _: self.start_review(user)),
            (_HELP.match, lambda user, _: [Reply(HELP_TEXT, buttons=[Button("Start a review", "start a review")])]),
            (lambda text: _MY_REVIEWS.fullmatch(text.rstrip(".!?")), lambda user, _: [self._my_reviews(user)]),
            (_STATUS.match, lambda user, match: [self._status(int(match[1]))]),
            (_ROLES.match, lambda user, _: [self._roles(user)]),
            (_GREETING.match, lambda user, _: [Reply(GREETING)]),
            (_CANCEL.match, lambda user, _: [Reply(NOTHING_UNDER_WAY)]),
        ]

    def press(self, user: UserContext, action_id: str, value: str) -> list[Reply]:
        """A button the core offered was pressed. Feedback buttons (Helpful / Not helpful) belong to the
        feedback feature and are not handled here."""
        if action_id == Actions.ANSWER:
            return self.handle(user, value)
        if action_id == Actions.ASK:
            # A suggested question is a question even while a review is being set up.
            replies = self._ask(user, value)
            current = self._engine.current(user.conversation_key, people=user.people, actor=user.person)
            if current is not None and current.status is TurnStatus.ASKING:
                replies.append(self._turn_reply(current, lead="Back to your review:"))
            return replies
        if action_id == Actions.OPEN_REVIEW_FORM:
            return [Reply("Fill in the form to set up a review.", form=self.review_form(user))]
        raise ValueError(f"the chat core has no button {action_id!r}")

    def start_review(self, user: UserContext) -> list[Reply]:
        turn = self._engine.start(user.conversation_key, REVIEW_FLOW, people=user.people, actor=user.person)
        log.info("review_conversation_started", platform=user.platform)
        return [self._turn_reply(turn)]

    def resume(self, user: UserContext) -> list[Reply]:
        """What to show an officer who comes back: the question waiting for them, if any."""
        turn = self._engine.current(user.conversation_key, people=user.people, actor=user.person)
        if turn is None:
            return []
        if turn.status is TurnStatus.ASKING:
            return [self._turn_reply(turn, lead="You have a review half set up; let's carry on.")]
        return [self._turn_reply(turn)]

    # --- the wizard (one form) ---------------------------------------------------------

    def review_form(self, user: UserContext) -> FormSpec:
        fields = self._engine.form_fields(REVIEW_FLOW, people=user.people, actor=user.person)
        return FormSpec(flow=REVIEW_FLOW, title="New commissioning review", submit_label="Create review", fields=fields)

    def submit_review_form(
        self, user: UserContext, values: Mapping[str, str], confirmed: Collection[str] = ()
    ) -> FormSubmission:
        result, turn = self._engine.submit_form(
            user.conversation_key, REVIEW_FLOW, values, people=user.people, actor=user.person, confirmed=confirmed
        )
        if turn is None:
            return FormSubmission(errors=dict(result.errors), warnings=dict(result.warnings))
        if turn.status is not TurnStatus.COMPLETED:
            return FormSubmission(replies=[Reply(turn.text, ReplyKind.PROBLEM)])
        return FormSubmission(replies=[self._turn_reply(turn)], created=turn.result)

    # --- reviews and roles ----------------------------------------------------------------

    def _my_reviews(self, user: UserContext) -> Reply:
        if self.reviews is None:
            return Reply("Reviews aren't available here.", ReplyKind.PROBLEM)
        if user.person is None:
            return Reply(
                "I don't know who you are in the council's people list, so I can't find your reviews. "
                "Ask an administrator to add you.",
                ReplyKind.PROBLEM,
            )
        reviews = self.reviews.list_mine(user.person.id)
        if not reviews:
            return Reply(
                "You have no open reviews. Say “start a review” to set one up.",
                buttons=[Button("Start a review", "start a review")],
            )
        today = self._engine.today()
        lines = [f"Your open reviews ({len(reviews)}):"]
        lines.extend(f"• {describe_review(review, today)}" for review in reviews)
        lines.append("Say “status” and a number for the detail, e.g. “status " + str(reviews[0].id) + "”.")
        return Reply("\n".join(lines))

    def _status(self, review_id: int) -> Reply:
        if self.reviews is None:
            return Reply("Reviews aren't available here.", ReplyKind.PROBLEM)
        try:
            return Reply(self.reviews.status_summary(review_id))
        except ReviewNotFoundError as error:
            return Reply(f"{error} Say “my reviews” to see yours.", ReplyKind.PROBLEM)

    def _roles(self, user: UserContext) -> Reply:
        knowledge = self._guidance.knowledge()
        roles = getattr(knowledge, "roles", None)
        if roles is None:
            return Reply("The guidance isn't available here.", ReplyKind.PROBLEM)
        try:
            found = roles()
        except Exception as error:  # noqa: BLE001 - the officer gets a plain message; operators get the log
            log.error("roles_failed", platform=user.platform, error=type(error).__name__)
            return Reply(
                "Sorry, I couldn't read the guidance just now. Please try again in a minute.", ReplyKind.PROBLEM
            )
        if not found:
            return Reply("The guidance I have doesn't set out who does what in commissioning.")
        lines = ["Who does what in commissioning, according to the guidance:"]
        lines += [f"• {role.name}: {'; '.join(role.responsibilities)}" for role in found]
        return Reply("\n".join(lines))

    # --- guidance questions -------------------------------------------------------------

    def _ask(self, user: UserContext, question: str) -> list[Reply]:
        return self._guidance.ask(user.platform, user.conversation_key, question)

    @staticmethod
    def _is_aside(text: str, kind: str) -> bool:
        # "What does a portfolio holder do?" typed at the portfolio holder question is a question, not a name.
        return kind in _ASIDE_KINDS and text.endswith("?") and len(text.split()) >= 3

    # --- turns into replies ---------------------------------------------------------------

    def _turn_reply(self, turn: Turn, lead: str | None = None) -> Reply:
        text = turn.text if lead is None else f"{lead}\n\n{turn.text}"
        if turn.status is TurnStatus.COMPLETED:
            return Reply(text, ReplyKind.DONE)
        if turn.status in {TurnStatus.CANCELLED, TurnStatus.EXPIRED}:
            return Reply(text, ReplyKind.INFO, buttons=[Button("Start a review", "start a review")])
        prompt = turn.prompt
        buttons: list[Button] = []
        if prompt is not None:
            if prompt.kind == "pick":
                # Numbers, so the reply works for an ambiguous person as well as for "which answer to change".
                buttons = [Button(o.label, str(i)) for i, o in enumerate(prompt.options, 1)]
            else:
                buttons = [
                    Button(o.label, o.value, style="primary" if o.value == "yes" else None) for o in prompt.options
                ]
            if prompt.suggestion and prompt.kind not in {"yes_no", "confirm", "pick"}:
                buttons.append(Button(f"Use {prompt.suggestion}"[:75], "ok", style="primary"))
            if not prompt.required and prompt.kind not in {"confirm", "pick"}:
                buttons.append(Button("Skip", "skip"))
        return Reply(text, ReplyKind.QUESTION, buttons=buttons, prompt=prompt)


def describe_review(review: ReviewSummary, today: date) -> str:
    """One line for a review in a list: number, title, service and where it stands."""
    stage = review.current_stage
    if stage is None:
        where = "every stage done, ready to close"
    else:
        late = " — overdue" if stage.is_overdue(today) else ""
        where = f"{stage.name} stage, owner {stage.owner.name}, due {format_date(stage.due_date)}{late}"
    return f"#{review.id} “{review.title}” ({review.service}): {where}"


def build_dialogue(
    settings: WorkflowSettings,
    database: Database,
    *,
    knowledge: KnowledgeSource | Callable[[], KnowledgeSource] | None,
    clock: Callable[[], datetime] = utc_now,
) -> Dialogue:
    """Wire the chat core the way every platform uses it: SQL conversation store, the council's cycle,
    the review service, and the knowledge base (a factory opens it on the first question)."""
    cycle = cycle_from_settings(settings)
    reviews = ReviewService(database, cycle, clock=clock, timezone=settings.timezone)
    engine = ConversationEngine(
        SqlConversationStore(database, clock=clock),
        [build_review_flow(cycle, reviews)],
        idle_minutes=settings.conversation_idle_minutes,
        timezone_name=settings.timezone,
        clock=clock,
    )
    return Dialogue(
        engine, knowledge, people=PeopleRepository(database), reviews=reviews, answer_log=AnswerLog(database, clock)
    )


def directory_user(
    dialogue: Dialogue, platform: str, conversation_key: str, person: PersonRef | None, display_name: str = ""
) -> UserContext:
    """A user whose mentions are resolved from the people table (the terminal; adapters may chain their own)."""
    assert dialogue.people is not None, "build the dialogue with build_dialogue() to resolve people"
    return UserContext(
        platform=platform,
        conversation_key=conversation_key,
        people=DirectoryPeopleResolver(dialogue.people, me=person),
        person=person,
        display_name=display_name or (person.name if person else ""),
    )
