"""What each Teams activity means, and the module that answers it: one mapping per kind, like Slack's listeners.

- ``message``: typed text (``messages/text.py``), or a card's ``Action.Submit`` from an older client
  (``messages/card_submit.py``);
- ``conversationUpdate`` / ``installationUpdate``: the app added or removed (``events/installation.py``);
- ``invoke``: ``adaptiveCard/action`` (``invokes/card_action.py``), ``task/fetch`` and ``task/submit``
  (``invokes/task_module.py``), ``message/submitAction`` (``invokes/feedback_loop.py``), answered in the HTTP
  response.

Card buttons and forms, whichever way they arrive, go to the one mapping in :class:`~handlers.teams.registry.
CardHandlers`, filled by the feature modules under ``actions/``. No business rule lives here.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from microsoft_agents.activity import Activity, ChannelAccount

from handlers.services import ChatServices
from handlers.teams import actions
from handlers.teams.connector import ConnectorClient
from handlers.teams.constants import INVOKE_CARD_ACTION, INVOKE_SUBMIT_ACTION, INVOKE_TASK_FETCH, INVOKE_TASK_SUBMIT
from handlers.teams.context import SOMETHING_WENT_WRONG, TeamsContext
from handlers.teams.events.installation import on_conversation_update, on_installation_update
from handlers.teams.invokes import FollowUp, InvokeResult
from handlers.teams.invokes.card_action import answer_card_action
from handlers.teams.invokes.feedback_loop import answer_feedback_loop
from handlers.teams.invokes.task_module import answer_task_fetch, answer_task_submit
from handlers.teams.messages.card_submit import answer_card_submit, is_card_submit
from handlers.teams.messages.text import answer_text
from handlers.teams.outbox import Part
from handlers.teams.people import is_personal
from handlers.teams.registry import CardHandlers
from workflows.replies import Reply, ReplyKind

__all__ = ["TeamsBot", "addressed_to_bot"]

log = structlog.get_logger(__name__)

ActivityHandler = Callable[[TeamsContext, Activity], list[Part]]
InvokeHandler = Callable[[TeamsContext, Activity], tuple[InvokeResult, FollowUp]]


def answer_message(teams: TeamsContext, activity: Activity) -> list[Part]:
    if _from_a_bot(activity):
        return []
    if is_card_submit(activity):
        return answer_card_submit(teams, activity)
    return answer_text(teams, activity)


# Activities acknowledged once stored, worked out by a queue worker and answered through the Connector.
ACTIVITIES: dict[str, ActivityHandler] = {
    "message": answer_message,
    "conversationUpdate": on_conversation_update,
    "installationUpdate": on_installation_update,
}
# Invokes, answered in the HTTP response.
INVOKES: dict[str, InvokeHandler] = {
    INVOKE_CARD_ACTION: answer_card_action,
    INVOKE_TASK_FETCH: answer_task_fetch,
    INVOKE_TASK_SUBMIT: answer_task_submit,
    INVOKE_SUBMIT_ACTION: answer_feedback_loop,
}


class TeamsBot:
    def __init__(self, services: ChatServices, connector: ConnectorClient | None) -> None:
        self.teams = TeamsContext(services, connector)
        actions.register(self.teams.cards, self.teams)

    @property
    def cards(self) -> CardHandlers:
        """Every card button's and card form's handler (``handlers/teams/actions/``)."""
        return self.teams.cards

    def on_activity(self, activity: Activity) -> list[Part]:
        """Do what the activity asks and work out what to say back (nothing is sent here)."""
        handler = ACTIVITIES.get(activity.type or "")
        if handler is None:
            log.info("teams_activity_ignored", type=activity.type)
            return []
        try:
            return handler(self.teams, activity)
        except Exception as error:  # noqa: BLE001 - the officer hears something; operators get the log
            if activity.type != "message":
                raise
            log.error("teams_message_failed", error=type(error).__name__, detail=str(error)[:300])
            return self.teams.reply_parts(activity, [Reply(SOMETHING_WENT_WRONG, ReplyKind.PROBLEM)], None)

    def on_invoke(self, activity: Activity) -> tuple[InvokeResult, FollowUp]:
        name = activity.name or ""
        handler = INVOKES.get(name)
        if handler is None:
            log.info("teams_invoke_unsupported", invoke=name[:80])
            return InvokeResult(501, None), []
        return handler(self.teams, activity)


def addressed_to_bot(activity: Activity) -> bool:
    """Whether the bot would answer this message: a person's, in a 1:1 chat, @mentioning it, or a card's submit."""
    if activity.type != "message" or _from_a_bot(activity):
        return False
    return is_personal(activity) or activity.is_recipient_mentioned() or is_card_submit(activity)


def _from_a_bot(activity: Activity) -> bool:
    # The model types "from" as always there, but an activity without it parses with None.
    sender: ChannelAccount | None = activity.from_property
    recipient = activity.recipient
    if sender is None:
        return True
    if recipient is not None and sender.id == recipient.id:
        return True
    return (sender.role or "").lower() == "bot"
