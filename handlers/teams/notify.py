"""Nudges to Teams: a proactive message in the person's 1:1 chat with the bot.

:class:`TeamsNotifier` is the Teams :class:`~workflows.messaging.Messenger`, a thin
translation of :meth:`handlers.teams.proactive.TeamsMessenger.send_proactive`
(which retries throttling safely and marks a person unreachable on 403) into the
:class:`SendResult` the work queue's handler records. :meth:`TeamsNotifier.next_turn`
keeps each person's chat to Teams' per-conversation rate, so a message waits its
turn in the work queue rather than in a sleeping thread; a ``Retry-After`` Teams
still asks for after the Connector's own short retries is reported, and that
person's messages wait in the queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from handlers.teams.constants import MESSAGES_PER_SECOND_PER_CONVERSATION
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

    def __init__(
        self,
        messenger: TeamsMessenger,
        *,
        rate: float = MESSAGES_PER_SECOND_PER_CONVERSATION,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._messenger = messenger
        self._interval = 1.0 / rate
        self._clock = clock
        self._next: dict[int, float] = {}
        self._lock = threading.Lock()

    def next_turn(self, person: Person) -> float:
        """Seconds until the person's chat may have another message; 0 means now, and the turn is taken."""
        key = int(person.id or 0)
        with self._lock:
            now = self._clock()
            slot = self._next.get(key, now)
            if slot > now:
                return slot - now
            self._next[key] = now + self._interval
            if len(self._next) > 10_000:  # forget quiet conversations
                self._next = {k: at for k, at in self._next.items() if at > now}
            return 0.0

    def can_reach(self, person: Person) -> bool:
        # A conversation reference is stored when the person installs the app or first writes to it.
        return bool(person.teams_conversation_ref)

    def send(self, person: Person, reply: Reply) -> SendResult:
        # Sent from the work queue: no sleeping in a worker; pacing and Retry-After wait in the queue.
        result = self._messenger.send_proactive(person, reply, patient=False)
        # retry_after tells the sweep Teams is still throttling, so the rest of its Teams nudges wait.
        return SendResult(_STATUS[result.status], result.detail, result.retry_after)
