"""Messages the bot starts: reminders, feedback requests, digests.

:meth:`TeamsMessenger.send_proactive` is the one call the nudges and feedback
features make to reach a person in Teams. It uses the conversation reference
stored when the person installed the app or first wrote to it, opens the 1:1
chat when only the user's id is known, and reports what happened rather than
raising, so the caller's ledger can decide what to retry:

- ``SENT``: delivered (``activity_id`` is the Connector's id for it);
- ``NO_CONVERSATION``: the person has never talked to the bot in Teams; retrying won't help;
- ``UNREACHABLE``: Teams answered 403 (app removed or blocked): the person is marked
  unreachable and nothing more is sent until they write to the bot again;
- ``UNCERTAIN``: the Connector answered 502/504 or timed out after the message was
  sent; it may have arrived, so the caller should not send it again automatically;
- ``FAILED``: nothing was delivered (throttled past the retries, network down,
  token refused): safe to retry later.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog

from handlers.teams.connector import (
    THROTTLED,
    ConnectorClient,
    ConnectorError,
    ConversationForbiddenError,
    DeliveryUncertainError,
)
from handlers.teams.people import ConversationReference
from handlers.teams.render import reply_activity
from handlers.teams.token import BotTokenError
from storage.models import Person
from storage.people import PeopleRepository
from workflows.people import PersonRef
from workflows.replies import Reply

log = structlog.get_logger(__name__)


class DeliveryStatus(StrEnum):
    SENT = "sent"
    NO_CONVERSATION = "no_conversation"
    UNREACHABLE = "unreachable"
    UNCERTAIN = "uncertain"
    FAILED = "failed"

    @property
    def retryable(self) -> bool:
        return self is DeliveryStatus.FAILED


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    activity_id: str | None = None
    detail: str = ""
    retry_after: float | None = None  # still throttled: wait at least this long before sending to Teams again

    @property
    def sent(self) -> bool:
        return self.status is DeliveryStatus.SENT


# How long a throttled person's messages wait when Teams did not say.
THROTTLED_WAIT_SECONDS = 1.0


class TeamsMessenger:
    def __init__(self, people: PeopleRepository, connector: ConnectorClient) -> None:
        self._people = people
        self._connector = connector

    def send_proactive(
        self, person: Person | PersonRef | int, reply: Reply | dict[str, Any], *, patient: bool = True
    ) -> DeliveryResult:
        """Send ``reply`` (a core reply, or a ready message activity) to the person's 1:1 chat with the bot.

        ``patient=False`` (the work queue's sender): one attempt without sleeping; a 429 comes back as a failure
        with its ``retry_after``, and the queue holds the person's messages until then."""
        record = self._load(person)
        if record is None:
            return DeliveryResult(DeliveryStatus.NO_CONVERSATION, detail="no such person")
        if not record.reachable:
            return DeliveryResult(DeliveryStatus.UNREACHABLE, detail="marked unreachable")
        reference = ConversationReference.from_json(record.teams_conversation_ref)
        if reference is None:
            return DeliveryResult(DeliveryStatus.NO_CONVERSATION, detail="never talked to the bot in Teams")
        activity = reply if isinstance(reply, dict) else reply_activity(reply)
        try:
            conversation_id = reference.conversation_id or self._open_chat(record, reference)
            activity_id = self._connector.send(reference.service_url, conversation_id, activity, patient=patient)
        except ConversationForbiddenError:
            self._people.set_reachable(record.id, False, actor="teams")  # type: ignore[arg-type]
            log.warning("teams_proactive_unreachable", person_id=record.id)
            return DeliveryResult(DeliveryStatus.UNREACHABLE, detail="Teams refused: the app was removed or blocked")
        except DeliveryUncertainError as error:
            log.warning("teams_proactive_uncertain", person_id=record.id, status=error.status)
            return DeliveryResult(DeliveryStatus.UNCERTAIN, detail=str(error))
        except (ConnectorError, BotTokenError) as error:
            log.warning(
                "teams_proactive_failed",
                person_id=record.id,
                error=type(error).__name__,
                status=getattr(error, "status", None),
            )
            retry_after = getattr(error, "retry_after", None)
            if retry_after is None and getattr(error, "status", None) in THROTTLED:
                retry_after = THROTTLED_WAIT_SECONDS  # throttled without saying for how long
            return DeliveryResult(DeliveryStatus.FAILED, detail=str(error), retry_after=retry_after)
        log.info("teams_proactive_sent", person_id=record.id)
        return DeliveryResult(DeliveryStatus.SENT, activity_id=activity_id)

    def _load(self, person: Person | PersonRef | int) -> Person | None:
        if isinstance(person, Person):
            return person
        person_id = person.id if isinstance(person, PersonRef) else int(person)
        return self._people.get(person_id)

    def _open_chat(self, record: Person, reference: ConversationReference) -> str:
        conversation_id = self._connector.create_personal_conversation(
            reference.service_url, bot_id=reference.bot_id, user_id=reference.user_id, tenant_id=reference.tenant_id
        )
        stored = ConversationReference(**{**reference.__dict__, "conversation_id": conversation_id})
        self._people.set_teams_conversation_ref(record.id, stored.to_json(), actor="teams")  # type: ignore[arg-type]
        return conversation_id
