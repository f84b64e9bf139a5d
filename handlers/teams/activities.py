"""What each Teams activity means, and the core call that answers it.

- ``conversationUpdate`` / ``installationUpdate``: the app was added (remember how
  to reach the user, say hello) or removed (stop messaging them);
- ``message``: typed text (a command such as ``status 12``, a guidance question,
  an answer in the review conversation) or, from older clients, a card's
  ``Action.Submit``;
- ``invoke``: ``adaptiveCard/action`` (a card button or the review form),
  ``task/fetch`` and ``task/submit`` (the review form as a dialog). These are
  answered in the HTTP response; anything slower (a guidance answer) follows
  through the Connector.

No business rule lives here: commands go to :class:`workflows.commands.CommandRunner`,
everything else to :class:`workflows.dialogue.Dialogue`.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from microsoft_agents.activity import Activity

from handlers.services import ChatServices
from handlers.teams import cards
from handlers.teams.cards import ActionMode
from handlers.teams.connector import ConnectorClient, ConnectorError, ConversationForbiddenError
from handlers.teams.constants import (
    CARD_RESPONSE_TYPE,
    DATA_ACTION_ID,
    DATA_CONFIRMED,
    DATA_VALUE,
    DATA_VERB,
    INVOKE_CARD_ACTION,
    INVOKE_TASK_FETCH,
    INVOKE_TASK_SUBMIT,
    MESSAGE_RESPONSE_TYPE,
    NEW_OWNER_INPUT_ID,
    PLATFORM,
    REASON_INPUT_ID,
    VERB_ADVANCE_WITH_REASON,
    VERB_OPEN_REVIEW_FORM,
    VERB_PRESS,
    VERB_REASSIGN_STAGE,
    VERB_REVIEW_FORM_SUBMIT,
)
from handlers.teams.people import TeamsMentionResolver, TeamsPeople, is_personal
from handlers.teams.render import reply_activity
from handlers.teams.token import BotTokenError
from storage.people import PeopleRepository
from workflows.commands import COMMAND_NAMES, Command, CommandActions, CommandRunner, FeedbackCommand, parse_command
from workflows.conversation import TurnStatus
from workflows.dialogue import UserContext
from workflows.nudge_actions import NudgeActions, NudgeButtons
from workflows.nudge_actions import parse_stage_value as parse_nudge_stage_value
from workflows.people import ChainedPeopleResolver, DirectoryPeopleResolver
from workflows.replies import Actions, Reply, ReplyKind

log = structlog.get_logger(__name__)

FollowUp = Callable[[], None]
# Another feature's buttons: (user, action id, value) -> replies to send.
PressHandler = Callable[[UserContext, str, str], list[Reply]]
# Another feature's cards (a feedback form, a reassign box): (user, card data, mode) -> outcome.
VerbHandler = Callable[[UserContext, Mapping[str, Any], ActionMode], "CardOutcome"]
# Another feature's buttons that answer with a card of their own (a form): (user, action id, value, mode) -> outcome.
CardPressHandler = Callable[[UserContext, str, str, ActionMode], "CardOutcome"]

_OTHER_TAGS = re.compile(r"<(?!/?at>)[^>]+>", re.IGNORECASE)
# The command menu's entries, typed or picked, beyond the bare command names.
_MENU_PHRASES = {"new review": "new", "my reviews": "list"}
MAX_CONVERSATION_KEY = 250

WELCOME_PERSONAL = (
    "Hello! I'm the Commissioning Assistant. Ask me anything about the commissioning guidance, "
    "for example “Who approves sourcing decisions?”, and I'll quote the passage I'm relying on.\n"
    "Type “new review” to set up a commissioning review, “my reviews” to see yours, or “help” for everything I can do."
)
WELCOME_TEAM = (
    "Hello! I'm the Commissioning Assistant. @mention me with a question about the commissioning guidance, "
    "or with “help” to see what I can do. For reminders and forms, chat with me directly."
)
THANKS_HELPFUL = "Thanks, glad it helped."
THANKS_NOT_HELPFUL = "Thanks for telling us. We use this to improve the answers."
STALE_BUTTON = "That button is from an older message and no longer does anything. Type “help” to see what I can do."
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on my side. Please try again in a minute; "
    "if it keeps happening, let your system administrator know."
)


@dataclass
class InvokeResult:
    """The HTTP answer to an invoke: Teams reads ``body`` as the invoke response."""

    status: int
    body: dict[str, Any] | None


@dataclass
class CardOutcome:
    """What pressing a card's button led to, before choosing how Teams gets it."""

    card: dict[str, Any] | None = None  # shown in place of the pressed card
    message: str | None = None  # a short notice, leaving the card as it was
    replies: list[Reply] = field(default_factory=list)  # further messages, sent through the Connector
    question: str | None = None  # the question the replies answer, for Helpful / Not helpful
    form_open: bool = False  # the card is (still) the form: a dialog stays open
    done: Reply | None = None  # the form was accepted; a dialog closes and this goes into the chat
    new_cards: list[dict[str, Any]] = field(default_factory=list)  # cards to post as new messages


def dedupe_key(activity: Activity) -> str | None:
    """Activity ids are unique within a conversation, not across them (channel posts use timestamps)."""
    if not activity.id:
        return None
    conversation = activity.conversation.id if activity.conversation else ""
    return f"{conversation}|{activity.id}"


def teams_command(text: str) -> Command | None:
    """A typed command, or None for anything else (a question, an answer in a conversation).

    Teams has no slash: only a message starting with a command's own name counts, so a
    question such as "who approves sourcing?" is never read as the ``whois`` alias.
    """
    lowered = " ".join(text.split()).casefold().rstrip(".!")
    if lowered in _MENU_PHRASES:
        return Command(_MENU_PHRASES[lowered])
    first = lowered.split(" ", 1)[0] if lowered else ""
    if first not in COMMAND_NAMES:
        return None
    command = parse_command(text)
    return command if command.unknown is None else None


class TeamsBot:
    def __init__(
        self, services: ChatServices, connector: ConnectorClient | None, feedback: FeedbackCommand | None = None
    ) -> None:
        self._services = services
        self._connector = connector
        self._feedback = feedback
        self._repository = PeopleRepository(services.database)
        self.people = TeamsPeople(self._repository, connector)
        self._runner: CommandRunner | None = None
        self._nudge_buttons: NudgeButtons | None = None
        self._press_handlers: dict[str, PressHandler] = {}
        self._verb_handlers: dict[str, VerbHandler] = {}
        self._card_press_handlers: dict[str, CardPressHandler] = {}

    def register_press(self, action_ids: list[str] | tuple[str, ...], handler: PressHandler) -> None:
        """Route presses of another feature's core buttons (e.g. the nudges' Snooze) to ``handler``.

        The replies it returns follow through the Connector, like any button's."""
        for action_id in action_ids:
            self._press_handlers[action_id] = handler

    def use_feedback(self, feedback: FeedbackCommand) -> None:
        """Run the typed ``feedback <review>`` command with the feedback feature's own handler."""
        self._feedback = feedback
        self._runner = None  # built again, with it, on the next command

    def register_card_press(self, action_ids: list[str] | tuple[str, ...], handler: CardPressHandler) -> None:
        """Route presses of another feature's core buttons to ``handler``, whose card replaces the pressed one
        (e.g. feedback's "Give feedback" opening its form)."""
        for action_id in action_ids:
            self._card_press_handlers[action_id] = handler

    def register_verb(self, verb: str, handler: VerbHandler) -> None:
        """Route a card's own submit verb (a form another feature renders with :mod:`cards`) to ``handler``."""
        self._verb_handlers[verb] = handler

    @property
    def runner(self) -> CommandRunner:
        if self._runner is None:
            services = self._services
            self._runner = CommandRunner(
                services.dialogue, roles=lambda: services.knowledge, feedback=self._feedback, command_prefix=""
            )
        return self._runner

    # --- activities that are acknowledged first and answered through the Connector ------------

    def on_activity(self, activity: Activity) -> None:
        kind = activity.type
        if kind == "message":
            try:
                self.on_message(activity)
            except Exception as error:  # noqa: BLE001 - the officer hears something; operators get the log
                log.error("teams_message_failed", error=type(error).__name__, detail=str(error)[:300])
                self.send_replies(activity, [Reply(SOMETHING_WENT_WRONG, ReplyKind.PROBLEM)], None)
        elif kind == "conversationUpdate":
            self.on_conversation_update(activity)
        elif kind == "installationUpdate":
            self.on_installation_update(activity)
        else:
            log.info("teams_activity_ignored", type=kind)

    def on_message(self, activity: Activity) -> None:
        if _from_a_bot(activity):
            return
        if isinstance(activity.value, dict) and not (activity.text or "").strip():
            # Action.Submit from a card in a client without Universal Actions.
            user = self._user(activity)
            outcome = self._card_action(user, activity.value, "submit")
            self._deliver_outcome(activity, outcome)
            return
        if not is_personal(activity) and not activity.is_recipient_mentioned():
            return  # in a channel or group chat the bot speaks only when spoken to
        text = message_text(activity)
        user = self._user(activity)
        question = text
        command = None if self._in_conversation(user) else teams_command(text)
        if command is not None:
            replies = self.runner.run_command(user, command)
            question = command.argument if command.name == "ask" else text
        else:
            replies = self._services.dialogue.handle(user, text)
        self.send_replies(activity, replies, question)

    def on_conversation_update(self, activity: Activity) -> None:
        bot_id = activity.recipient.id if activity.recipient else None
        added = [m.id for m in activity.members_added or []]
        removed = [m.id for m in activity.members_removed or []]
        if bot_id and bot_id in added:
            self.people.identify(activity)
            log.info("teams_app_installed", personal=is_personal(activity))
            welcome = Reply(WELCOME_PERSONAL if is_personal(activity) else WELCOME_TEAM)
            self.send_replies(activity, [welcome], None, thread=False)
        elif bot_id and bot_id in removed and is_personal(activity):
            self._mark_sender_unreachable(activity)

    def on_installation_update(self, activity: Activity) -> None:
        action = (activity.action or "").lower()
        if action.startswith("add"):
            self.people.identify(activity)
            log.info("teams_app_installed", personal=is_personal(activity), via="installationUpdate")
        elif action.startswith("remove") and is_personal(activity):
            self._mark_sender_unreachable(activity)

    # --- invokes, answered in the HTTP response -------------------------------------------------------

    def on_invoke(self, activity: Activity) -> tuple[InvokeResult, FollowUp | None]:
        name = activity.name or ""
        value = activity.value if isinstance(activity.value, dict) else {}
        if name == INVOKE_CARD_ACTION:
            action = value.get("action") if isinstance(value.get("action"), dict) else {}
            data = dict(action.get("data") or {})
            data.setdefault(DATA_VERB, action.get("verb"))
            user = self._user(activity)
            outcome = self._card_action(user, data, "execute")
            if outcome.card is not None:
                body = {"statusCode": 200, "type": CARD_RESPONSE_TYPE, "value": outcome.card}
            else:
                body = {"statusCode": 200, "type": MESSAGE_RESPONSE_TYPE, "value": outcome.message or "Done."}
            return InvokeResult(200, body), self._follow_up(activity, outcome)
        if name in (INVOKE_TASK_FETCH, INVOKE_TASK_SUBMIT):
            data = dict(value.get("data") or {})
            user = self._user(activity)
            if name == INVOKE_TASK_FETCH:
                data.setdefault(DATA_VERB, VERB_OPEN_REVIEW_FORM)  # the one dialog this bot opens
            outcome = self._card_action(user, data, "submit")
            if outcome.done is not None:
                # The dialog closes on a message; the confirmation card goes into the chat to be kept.
                outcome.replies = [outcome.done, *outcome.replies]
            return InvokeResult(200, self._task_response(outcome)), self._follow_up(activity, outcome)
        log.info("teams_invoke_unsupported", invoke=name[:80])
        return InvokeResult(501, None), None

    def _task_response(self, outcome: CardOutcome) -> dict[str, Any]:
        if outcome.card is not None and outcome.form_open:
            return {
                "task": {
                    "type": "continue",
                    "value": {
                        "title": "New commissioning review",
                        "height": "large",
                        "width": "large",
                        "card": cards.attachment(outcome.card),
                    },
                }
            }
        text = outcome.message or (outcome.replies[0].text.split("\n", 1)[0] if outcome.replies else "Done.")
        return {"task": {"type": "message", "value": text[:500]}}

    def _follow_up(self, activity: Activity, outcome: CardOutcome) -> FollowUp | None:
        if not outcome.replies and not outcome.new_cards:
            return None

        def follow_up() -> None:
            # An invoke's id is no message to reply to; a channel conversation's id already names its thread.
            self.send_replies(activity, outcome.replies, outcome.question, thread=False)
            self._send_cards(activity, outcome.new_cards)

        return follow_up

    # --- card buttons and forms (Action.Execute, Action.Submit and dialogs share this) -----------------

    def _card_action(self, user: UserContext, data: Mapping[str, Any], mode: ActionMode) -> CardOutcome:
        verb = data.get(DATA_VERB)
        dialogue = self._services.dialogue
        if verb == VERB_REVIEW_FORM_SUBMIT:
            return self._submit_review_form(user, data, mode)
        if verb == VERB_OPEN_REVIEW_FORM:
            return CardOutcome(card=cards.render_form_card(dialogue.review_form(user), mode=mode), form_open=True)
        if verb == VERB_REASSIGN_STAGE:
            return self._reassign_stage(user, data, mode)
        if verb == VERB_ADVANCE_WITH_REASON:
            reason = str(data.get(REASON_INPUT_ID) or "").strip()
            review_id, stage = CommandRunner.parse_stage_value(str(data.get(DATA_VALUE) or "0"))
            if not reason:
                return CardOutcome(
                    card=cards.render_reason_card(
                        str(data.get(DATA_VALUE)), mode, error="Please say why the stage is finished."
                    )
                )
            replies = self.runner.advance(user, review_id, stage_name=stage, reason=reason)
            return self._as_card(replies, mode)
        if isinstance(verb, str) and verb in self._verb_handlers:
            return self._verb_handlers[verb](user, data, mode)
        if verb != VERB_PRESS:
            return CardOutcome(message=STALE_BUTTON)
        action_id = str(data.get(DATA_ACTION_ID) or "")
        value = str(data.get(DATA_VALUE) or "")
        if action_id in (Actions.HELPFUL, Actions.NOT_HELPFUL):
            helpful = action_id == Actions.HELPFUL
            # The same event as Slack's, so ratings are counted the same way whichever platform gave them.
            log.info("answer_rated", platform=PLATFORM, helpful=helpful, question_chars=len(value))
            return CardOutcome(message=THANKS_HELPFUL if helpful else THANKS_NOT_HELPFUL)
        if action_id == Actions.OPEN_REVIEW_FORM:
            return CardOutcome(card=cards.render_form_card(dialogue.review_form(user), mode=mode), form_open=True)
        if action_id in (Actions.ANSWER, Actions.ASK):
            replies = dialogue.press(user, action_id, value)
            return CardOutcome(
                message=f"You said: {value}"[:200] if action_id == Actions.ANSWER else "Looking that up…",
                replies=replies,
                question=value if action_id == Actions.ASK else None,
            )
        if action_id in self._card_press_handlers:
            return self._card_press_handlers[action_id](user, action_id, value, mode)
        if action_id in self._press_handlers:
            return CardOutcome(message="Got it.", replies=self._press_handlers[action_id](user, action_id, value))
        if action_id in NudgeActions.HANDLED_HERE:
            return self._nudge_button(user, action_id, value, mode)
        if action_id == CommandActions.REVIEW_ADVANCE_WITH_REASON:
            return CardOutcome(card=cards.render_reason_card(value, mode))
        if action_id in (CommandActions.REVIEW_STATUS, CommandActions.REVIEW_ADVANCE):
            try:
                replies = self.runner.press(user, action_id, value)
            except ValueError:
                return CardOutcome(message=STALE_BUTTON)
            return CardOutcome(message="Here you are.", replies=replies)
        return CardOutcome(message=STALE_BUTTON)

    # --- a nudge's Snooze and Reassign (Mark done and Open review are the command buttons) ---------------

    @property
    def nudge_buttons(self) -> NudgeButtons:
        if self._nudge_buttons is None:
            self._nudge_buttons = NudgeButtons(self._services.reviews, self._services.calendar)
        return self._nudge_buttons

    def _nudge_button(self, user: UserContext, action_id: str, value: str, mode: ActionMode) -> CardOutcome:
        replies = self.nudge_buttons.press(user, action_id, value)
        if action_id == NudgeActions.REASSIGN and replies and replies[0].kind is ReplyKind.QUESTION:
            # The lead may hand the stage on: a box to name the new owner, as a new message so the
            # reminder (and its checklist) stays where it was.
            box = cards.render_text_input_card(
                replies[0].text,
                "New owner",
                input_id=NEW_OWNER_INPUT_ID,
                verb=VERB_REASSIGN_STAGE,
                value=value,
                submit_label="Hand it over",
                mode=mode,
                placeholder="An @mention, an email or a name",
            )
            return CardOutcome(message="Who should take it on? Fill in the box below.", new_cards=[box])
        return CardOutcome(message=replies[0].text.split("\n", 1)[0][:200] if replies else "Done.", replies=replies)

    def _reassign_stage(self, user: UserContext, data: Mapping[str, Any], mode: ActionMode) -> CardOutcome:
        value = str(data.get(DATA_VALUE) or "")
        new_owner = str(data.get(NEW_OWNER_INPUT_ID) or "").strip()
        try:
            review_id, stage_name = parse_nudge_stage_value(value)
        except ValueError:
            return CardOutcome(message=STALE_BUTTON)
        if not new_owner:
            box = cards.render_text_input_card(
                f"Who should take on {stage_name} of #{review_id}?",
                "New owner",
                input_id=NEW_OWNER_INPUT_ID,
                verb=VERB_REASSIGN_STAGE,
                value=value,
                submit_label="Hand it over",
                mode=mode,
                error="Please name the person who should take it on.",
            )
            return CardOutcome(card=box)
        reply = self.nudge_buttons.reassign(user, review_id, stage_name, new_owner)
        return CardOutcome(card=cards.render_reply_card(reply, mode))

    def _as_card(self, replies: list[Reply], mode: ActionMode) -> CardOutcome:
        if not replies:
            return CardOutcome(message="Done.")
        return CardOutcome(card=cards.render_reply_card(replies[0], mode), replies=replies[1:])

    def _submit_review_form(self, user: UserContext, data: Mapping[str, Any], mode: ActionMode) -> CardOutcome:
        dialogue = self._services.dialogue
        spec = dialogue.review_form(user)
        values = cards.form_values(data, spec.fields)
        confirmed = [str(item) for item in data.get(DATA_CONFIRMED) or [] if isinstance(item, str)]
        result = dialogue.submit_review_form(user, values, confirmed)
        if result.errors or result.warnings:
            log.info("teams_review_form_invalid", errors=sorted(result.errors), warnings=sorted(result.warnings))
            shown = replace(spec, errors=dict(result.errors), warnings=dict(result.warnings))
            return CardOutcome(card=cards.render_form_card(shown, values, mode), form_open=True)
        if result.created is None:
            # The review could not be saved (a rule the form could not check): say so above the form.
            problem = result.replies[0].text if result.replies else SOMETHING_WENT_WRONG
            content = cards.render_form_card(spec, values, mode)
            content["body"].insert(1, cards.text_block(problem, color="Attention", weight="Bolder"))
            return CardOutcome(card=content, form_open=True)
        done = result.replies[0] if result.replies else Reply("Your review is set up.", ReplyKind.DONE)
        log.info("teams_review_created", via=mode)
        return CardOutcome(card=cards.render_reply_card(done, mode), message=done.text.split("\n", 1)[0], done=done)

    # --- sending --------------------------------------------------------------------------------------

    def send_replies(
        self, activity: Activity, replies: list[Reply], question: str | None, *, thread: bool = True
    ) -> None:
        if self._connector is None or not activity.service_url or not activity.conversation:
            return
        reply_to = activity.id if thread and not is_personal(activity) else None
        for reply in replies:
            message = reply_activity(reply, question=question)
            try:
                self._connector.send(activity.service_url, activity.conversation.id, message, reply_to_id=reply_to)
            except ConversationForbiddenError:
                self._mark_sender_unreachable(activity)
                return
            except (ConnectorError, BotTokenError) as error:
                log.error("teams_reply_failed", status=getattr(error, "status", None), error=type(error).__name__)
                return

    def _send_cards(self, activity: Activity, contents: list[dict[str, Any]]) -> None:
        if self._connector is None or not activity.service_url or not activity.conversation:
            return
        for content in contents:
            try:
                self._connector.send(
                    activity.service_url,
                    activity.conversation.id,
                    {"type": "message", "attachments": [cards.attachment(content)]},
                )
            except (ConnectorError, BotTokenError) as error:
                log.warning("teams_card_send_failed", status=getattr(error, "status", None))
                return

    def _deliver_outcome(self, activity: Activity, outcome: CardOutcome) -> None:
        """An Action.Submit arrived as a message: update the card in place when Teams says which it was."""
        if self._connector is None or not activity.service_url or not activity.conversation:
            return
        if outcome.card is not None:
            message = {"type": "message", "attachments": [cards.attachment(outcome.card)]}
            try:
                if activity.reply_to_id:
                    self._connector.update(
                        activity.service_url, activity.conversation.id, activity.reply_to_id, message
                    )
                else:
                    self._connector.send(activity.service_url, activity.conversation.id, message)
            except (ConnectorError, BotTokenError) as error:
                log.warning("teams_card_update_failed", status=getattr(error, "status", None))
        elif outcome.message and not outcome.replies:
            self.send_replies(activity, [Reply(outcome.message)], None)
        if outcome.replies:
            self.send_replies(activity, outcome.replies, outcome.question)
        self._send_cards(activity, outcome.new_cards)

    # --- who and where -----------------------------------------------------------------------------------

    def _user(self, activity: Activity) -> UserContext:
        person = self.people.identify(activity)
        sender = activity.from_property
        who = (sender.aad_object_id or sender.id) if sender else "unknown"
        conversation = activity.conversation.id if activity.conversation else "none"
        key = f"teams:{conversation}:{who}"
        if len(key) > MAX_CONVERSATION_KEY:
            key = "teams:" + hashlib.sha256(key.encode()).hexdigest()
        resolver = ChainedPeopleResolver(
            [
                TeamsMentionResolver(activity, self._repository, self._connector),
                DirectoryPeopleResolver(self._repository, me=person),
            ]
        )
        return UserContext(PLATFORM, key, resolver, person, display_name=(sender.name or "") if sender else "")

    def _in_conversation(self, user: UserContext) -> bool:
        turn = self._services.dialogue.engine.current(user.conversation_key, people=user.people, actor=user.person)
        return turn is not None and turn.status is TurnStatus.ASKING

    def _mark_sender_unreachable(self, activity: Activity) -> None:
        sender = activity.from_property
        if sender is not None and sender.aad_object_id:
            self.people.mark_unreachable(sender.aad_object_id)


def message_text(activity: Activity) -> str:
    """The text without the bot's own @mention, HTML entities or formatting tags (other @mentions stay)."""
    text = activity.text or ""
    if activity.recipient is not None:
        text = activity.remove_recipient_mention() or ""
    text = _OTHER_TAGS.sub(" ", text)
    return " ".join(html.unescape(text).split())


def _from_a_bot(activity: Activity) -> bool:
    sender, recipient = activity.from_property, activity.recipient
    if sender is None:
        return True
    if recipient is not None and sender.id == recipient.id:
        return True
    return (sender.role or "").lower() == "bot"
