"""What every Teams handler shares: the process's services, the Connector, people, the card handlers, and
the ways of saying something back: replies, new cards and a card updated in place, each worked out as a
:class:`~handlers.teams.outbox.Part` to be stored and then sent once (``handlers/teams/delivery.py``)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cached_property
from typing import Any

import structlog
from microsoft_agents.activity import Activity

from handlers.services import ChatServices
from handlers.teams import cards
from handlers.teams.cards import ActionMode
from handlers.teams.connector import ConnectorClient
from handlers.teams.constants import PLATFORM
from handlers.teams.outbox import Part
from handlers.teams.people import TeamsPeople, is_personal, shows_ai_messages, teams_people_resolver
from handlers.teams.registry import CardHandlers, CardOutcome
from handlers.teams.render import reply_activity
from storage.answer_log import delivery_key
from storage.people import PeopleRepository
from workflows.commands import CommandRunner
from workflows.conversation import TurnStatus
from workflows.dialogue import UserContext
from workflows.nudge_actions import NudgeButtons
from workflows.replies import Reply

__all__ = ["SOMETHING_WENT_WRONG", "TeamsContext"]

log = structlog.get_logger(__name__)

MAX_CONVERSATION_KEY = 250
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on my side. Please try again in a minute; "
    "if it keeps happening, let your system administrator know."
)


class TeamsContext:
    def __init__(self, services: ChatServices, connector: ConnectorClient | None) -> None:
        self.services = services
        self.connector = connector
        self.repository = PeopleRepository(services.database)
        self.people = TeamsPeople(self.repository, connector)
        # Filled by each feature's register() (handlers/teams/actions/).
        self.cards = CardHandlers()

    @cached_property
    def commands(self) -> CommandRunner:
        services = self.services
        return CommandRunner(
            services.dialogue,
            roles=lambda: services.knowledge,
            feedback=lambda: services.feedback,
            insights=lambda: services.insights,
            command_prefix="",
        )

    @cached_property
    def nudge_buttons(self) -> NudgeButtons:
        return NudgeButtons(self.services.reviews, self.services.calendar)

    # --- who and where -----------------------------------------------------------------------------

    def user(self, activity: Activity) -> UserContext:
        person = self.people.identify(activity)
        sender = activity.from_property
        who = (sender.aad_object_id or sender.id) if sender else "unknown"
        conversation = activity.conversation.id if activity.conversation else "none"
        key = f"teams:{conversation}:{who}"
        if len(key) > MAX_CONVERSATION_KEY:
            key = "teams:" + hashlib.sha256(key.encode()).hexdigest()
        resolver = teams_people_resolver(activity, self.repository, self.connector, me=person)
        return UserContext(PLATFORM, key, resolver, person, display_name=(sender.name or "") if sender else "")

    def in_conversation(self, user: UserContext) -> bool:
        """Whether the review conversation is waiting for this user's answer (so text is an answer, not a command)."""
        turn = self.services.dialogue.engine.current(user.conversation_key, people=user.people, actor=user.person)
        return turn is not None and turn.status is TurnStatus.ASKING

    def mark_sender_unreachable(self, activity: Activity) -> None:
        sender = activity.from_property
        if sender is not None and sender.aad_object_id:
            self.people.mark_unreachable(sender.aad_object_id)

    # --- saying things ------------------------------------------------------------------------------

    @staticmethod
    def as_card(replies: list[Reply], mode: ActionMode) -> CardOutcome:
        """The first reply in place of the pressed card; any others follow as messages."""
        if not replies:
            return CardOutcome(message="Done.")
        return CardOutcome(card=cards.render_reply_card(replies[0], mode), replies=replies[1:])

    def reply_parts(
        self, activity: Activity, replies: list[Reply], question: str | None, *, thread: bool = True
    ) -> list[Part]:
        """The replies as messages to post (in the activity's thread unless ``thread`` is False or it is a 1:1
        chat), each rendered once here so that what is stored is exactly what is sent."""
        if not activity.service_url or not activity.conversation:
            return []
        reply_to = activity.id if thread and not is_personal(activity) else None
        ai_message = shows_ai_messages(activity)
        return [
            Part.post(
                reply_activity(reply, question=question, ai_message=ai_message),
                reply_to=reply_to,
                answer_key=self._pending_delivery(reply.answer_ref),
            )
            for reply in replies
        ]

    def _pending_delivery(self, answer_ref: str | None) -> str | None:
        """A random key that finds the answer until it is delivered: the replies are stored beside the activity
        (who asked), and the answer's ref must never be."""
        answer_log = self.services.dialogue.answer_log
        if answer_ref is None or answer_log is None:
            return None
        key = delivery_key("pending", secrets.token_hex(16))
        try:
            answer_log.mark_delivered(answer_ref, key)
        except Exception as error:  # noqa: BLE001 - the answer still goes; only its later rating would be lost
            log.warning("teams_answer_delivery_not_recorded", error=type(error).__name__)
            return None
        return key

    def remember_answer_delivery(self, answer_key: str | None, conversation_id: str, sent_id: str | None) -> None:
        """Teams' feedback loop names only the rated message: keep a one-way key of where the answer went, so its
        rating finds the answer (``invokes/feedback_loop.py``); nothing says whose chat it was."""
        answer_log = self.services.dialogue.answer_log
        if answer_key is None or not sent_id or answer_log is None:
            return
        try:
            answer_ref = answer_log.ref_delivered_at(answer_key)
            if answer_ref is not None:
                answer_log.mark_delivered(answer_ref, delivery_key(conversation_id, sent_id))
        except Exception as error:  # noqa: BLE001 - the answer is delivered; only its later rating would be lost
            log.warning("teams_answer_delivery_not_recorded", error=type(error).__name__)

    @staticmethod
    def card_parts(contents: list[dict[str, Any]]) -> list[Part]:
        return [Part.post({"type": "message", "attachments": [cards.attachment(content)]}) for content in contents]

    def follow_up_parts(self, activity: Activity, outcome: CardOutcome) -> list[Part]:
        """What follows an invoke's answer through the Connector: further replies, new cards, slow work."""
        # An invoke's id is no message to reply to; a channel conversation's id already names its thread.
        parts = self.reply_parts(activity, outcome.replies, outcome.question, thread=False)
        parts += self.card_parts(outcome.new_cards)
        if outcome.after is not None:
            parts.append(Part.run(outcome.after.name, outcome.after.args))
        return parts

    def card_update_parts(self, activity: Activity, outcome: CardOutcome) -> list[Part]:
        """An Action.Submit that arrived as a message: the card updated in place when Teams says which it was."""
        parts: list[Part] = []
        if activity.service_url and activity.conversation:
            if outcome.card is not None:
                message = {"type": "message", "attachments": [cards.attachment(outcome.card)]}
                if activity.reply_to_id:
                    parts.append(Part.update(activity.reply_to_id, message))
                else:
                    parts.append(Part.post(message))
            elif outcome.message and not outcome.replies:
                parts += self.reply_parts(activity, [Reply(outcome.message)], None)
            if outcome.replies:
                parts += self.reply_parts(activity, outcome.replies, outcome.question)
            parts += self.card_parts(outcome.new_cards)
        if outcome.after is not None:
            parts.append(Part.run(outcome.after.name, outcome.after.args))
        return parts
