"""Nudges to Teams: a proactive message in the person's 1:1 chat with the bot.

:class:`TeamsNotifier` is the Teams :class:`~workflows.messaging.Messenger`, a thin
translation of :meth:`handlers.teams.proactive.TeamsMessenger.send_proactive`
(which paces to Teams' per-conversation limit, retries throttling safely and
marks a person unreachable on 403) into the sweep's :class:`SendResult`.
"""

from __future__ import annotations

from handlers.teams.proactive import DeliveryStatus, TeamsMessenger
from storage.models import Person
from workflows.messaging import SendResult, SendStatus
from workflows.replies import Reply

_STATUS = {
    DeliveryStatus.SENT: SendStatus.SENT,
    DeliveryStatus.NO_CONVERSATION: SendStatus.NO_ADDRESS,
    DeliveryStatus.UNREACHABLE: SendStatus.UNREACHABLE,
    DeliveryStatus.UNCERTAIN: SendStatus.UNCERTAIN,
    DeliveryStatus.FAILED: SendStatus.FAILED,
}


class TeamsNotifier:
    platform = "teams"

    def __init__(self, messenger: TeamsMessenger) -> None:
        self._messenger = messenger

    def can_reach(self, person: Person) -> bool:
        # A conversation reference is stored when the person installs the app or first writes to it.
        return bool(person.teams_conversation_ref)

    def send(self, person: Person, reply: Reply) -> SendResult:
        result = self._messenger.send_proactive(person, reply)
        # retry_after tells the sweep Teams is still throttling, so the rest of its Teams nudges wait.
        return SendResult(_STATUS[result.status], result.detail, result.retry_after)
