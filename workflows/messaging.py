"""Messages the assistant starts (nudges, feedback invitations and reminders): one path to every platform.

A chat platform that can send someone a direct message is a :class:`Messenger`
(``handlers/slack/notify.py``, ``handlers/teams/notify.py``). :class:`Courier` is the
one way a message reaches a person, exactly once:

1. it picks the person's platform: the first messenger that can reach them (Slack
   first when they have a Slack id, else Teams); nobody marked unreachable;
2. it **claims** the message's row in the notification ledger (review, stage,
   person, kind, period: one unique key), so a second worker, a second scheduler or a
   retry never sends it again;
3. it sends, and records what happened: sent; failed (claimed again on a later run,
   up to ``max_attempts`` tries); or given up for good when the platform refuses the
   person (who is then marked unreachable), has no address for them, or may already
   have shown it (an uncertain send is never repeated blindly).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import structlog

from storage.base import utc_now
from storage.db import Database
from storage.models import Person
from storage.notifications import ClaimRequest, LedgerEntry, NotificationLedger, dedupe_key
from storage.people import PeopleRepository
from workflows.replies import Reply

__all__ = [
    "Courier",
    "Delivery",
    "DeliveryOutcome",
    "Messenger",
    "Parcel",
    "Postmark",
    "SendResult",
    "SendStatus",
    "retry_delay",
]

log = structlog.get_logger(__name__)

RETRY_BASE = timedelta(minutes=2)


class SendStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"  # nothing was delivered; safe to try again later
    UNREACHABLE = "unreachable"  # the platform refuses this person for good (blocked, left, deactivated)
    NO_ADDRESS = "no_address"  # we have no way to reach them on this platform
    UNCERTAIN = "uncertain"  # it may have arrived; sending again could show it twice


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    detail: str = ""
    retry_after: float | None = None  # the platform is throttling: wait at least this long before sending again


class Messenger(Protocol):
    """A chat platform that can send a person a direct message."""

    platform: str

    def can_reach(self, person: Person) -> bool:
        """Whether this platform knows how to reach the person at all."""

    def send(self, person: Person, reply: Reply) -> SendResult:
        """Deliver the reply to the person's direct messages; never raises for a platform's refusal."""


def retry_delay(attempts: int) -> timedelta:
    """How long after a failed try (the ``attempts``-th) the next may start."""
    return RETRY_BASE * int(2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Postmark:
    """What makes a message one message in the ledger: it is sent once per (review, stage, person, kind, period)."""

    review_id: int
    stage_id: int | None
    kind: str
    period: str


class DeliveryOutcome(StrEnum):
    SENT = "sent"
    NO_PLATFORM = "no_platform"  # no configured platform can reach the person (or they are marked unreachable)
    HELD = "held"  # their platform is throttling: left for a later run, not claimed
    CLAIMED_ELSEWHERE = "claimed_elsewhere"  # sent, being sent, or given up on, by this run or another
    FAILED = "failed"  # not delivered; claimed again on a later run
    GAVE_UP = "gave_up"  # no address, an uncertain send, or out of tries: never retried
    UNREACHABLE = "unreachable"  # the platform refuses the person for good; they are marked unreachable


@dataclass(frozen=True)
class Delivery:
    outcome: DeliveryOutcome
    platform: str | None = None
    entry: LedgerEntry | None = None
    result: SendResult | None = None


@dataclass(frozen=True)
class Parcel:
    """One message for :meth:`Courier.deliver_many`: to whom, its ledger identity, and how to write it."""

    person: Person | None
    postmark: Postmark
    compose: Callable[[], Reply]


# Messages claimed, sent and recorded together. A process killed mid-chunk leaves at most this many claims
# to be taken over (after ABANDONED_AFTER) rather than one; small enough, and a sweep does a few statements.
CLAIM_CHUNK = 500


class Courier:
    def __init__(
        self,
        database: Database,
        messengers: Sequence[Messenger],
        *,
        max_attempts: int = 5,
        clock: Callable[[], datetime] = utc_now,
        sender: str = "nudge",
    ) -> None:
        """``sender`` names what is being sent, in log events (``<sender>_send_error``) and the audit log."""
        self.database = database
        self.messengers = {messenger.platform: messenger for messenger in messengers}
        self.max_attempts = max_attempts
        self.clock = clock
        self.sender = sender
        self.people = PeopleRepository(database)

    def messenger_for(self, person: Person | None) -> Messenger | None:
        # A leaver stays deactivated even if a platform later marks them reachable again.
        if person is None or not person.reachable or person.deactivated_at is not None:
            return None
        return next((m for m in self.messengers.values() if m.can_reach(person)), None)

    def deliver(
        self,
        person: Person | None,
        postmark: Postmark,
        compose: Callable[[], Reply],
        *,
        now: datetime | None = None,
        hold: Collection[str] = (),
    ) -> Delivery:
        """Send the message ``compose`` writes to ``person`` unless it was sent already; ``hold`` names throttled
        platforms whose messages wait for a later run."""
        messenger = self.messenger_for(person)
        if person is None or messenger is None:
            return Delivery(DeliveryOutcome.NO_PLATFORM)
        if messenger.platform in hold:
            return Delivery(DeliveryOutcome.HELD, messenger.platform)
        moment = now or self.clock()
        ledger = NotificationLedger(self.database, clock=lambda: moment)
        entry = ledger.claim(
            review_id=postmark.review_id,
            stage_id=postmark.stage_id,
            person_id=int(person.id),  # type: ignore[arg-type]
            kind=postmark.kind,
            period=postmark.period,
        )
        if entry is None:
            return Delivery(DeliveryOutcome.CLAIMED_ELSEWHERE, messenger.platform)
        result = self._send(messenger, person, compose)
        outcome = self._record(ledger, entry, person, messenger.platform, result)
        return Delivery(outcome, messenger.platform, entry, result)

    def deliver_many(
        self, parcels: Sequence[Parcel], *, now: datetime | None = None, hold: set[str] | None = None
    ) -> list[Delivery]:
        """Deliver many messages with the ledger worked in chunks: each chunk's messages are claimed together,
        sent, then recorded together (one connection per step, not three statements per message).

        ``hold`` collects platforms that are throttling: their messages wait for a later run, and messages
        already claimed for them in the chunk are handed back untried. Returns one :class:`Delivery` per parcel.
        """
        hold = set() if hold is None else hold
        moment = now or self.clock()
        ledger = NotificationLedger(self.database, clock=lambda: moment)
        deliveries: list[Delivery | None] = [None] * len(parcels)
        for start in range(0, len(parcels), CLAIM_CHUNK):
            self._deliver_chunk(ledger, parcels, range(start, min(start + CLAIM_CHUNK, len(parcels))), hold, deliveries)
        return [delivery or Delivery(DeliveryOutcome.NO_PLATFORM) for delivery in deliveries]

    def _deliver_chunk(
        self,
        ledger: NotificationLedger,
        parcels: Sequence[Parcel],
        indexes: range,
        hold: set[str],
        deliveries: list[Delivery | None],
    ) -> None:
        routed: list[tuple[int, Messenger, Person]] = []
        for index in indexes:
            person, messenger = parcels[index].person, self.messenger_for(parcels[index].person)
            if person is None or messenger is None:
                deliveries[index] = Delivery(DeliveryOutcome.NO_PLATFORM)
            elif messenger.platform in hold:
                deliveries[index] = Delivery(DeliveryOutcome.HELD, messenger.platform)
            else:
                routed.append((index, messenger, person))
        claims = ledger.claim_many(
            [
                ClaimRequest(
                    parcels[i].postmark.review_id,
                    parcels[i].postmark.stage_id,
                    int(person.id),  # type: ignore[arg-type]  # people in the table always have an id
                    parcels[i].postmark.kind,
                    parcels[i].postmark.period,
                )
                for i, _, person in routed
            ]
        )
        sent: list[int] = []
        failed: list[tuple[int, str]] = []
        untried: list[LedgerEntry] = []
        for index, messenger, person in routed:
            postmark = parcels[index].postmark
            person_id = int(person.id)  # type: ignore[arg-type]
            entry = claims.get(
                dedupe_key(postmark.review_id, postmark.stage_id, person_id, postmark.kind, postmark.period)
            )
            if entry is None:
                deliveries[index] = Delivery(DeliveryOutcome.CLAIMED_ELSEWHERE, messenger.platform)
                continue
            if messenger.platform in hold:
                untried.append(entry)
                deliveries[index] = Delivery(DeliveryOutcome.HELD, messenger.platform)
                continue
            result = self._send(messenger, person, parcels[index].compose)
            if result.status is SendStatus.SENT:
                sent.append(entry.id)
                outcome = DeliveryOutcome.SENT
            elif result.status is SendStatus.FAILED and entry.attempts < self.max_attempts:
                failed.append((entry.id, result.detail or "send failed"))
                outcome = DeliveryOutcome.FAILED
            else:  # rare: given up, unreachable; recorded one by one
                outcome = self._record(ledger, entry, person, messenger.platform, result)
            if result.status is SendStatus.FAILED and result.retry_after is not None:
                hold.add(messenger.platform)  # still throttling: the rest of its messages wait for the next run
            deliveries[index] = Delivery(outcome, messenger.platform, entry, result)
        ledger.mark_sent_many(sent)
        ledger.mark_failed_many(failed)
        ledger.release_many(untried)

    def _send(self, messenger: Messenger, person: Person, compose: Callable[[], Reply]) -> SendResult:
        try:
            return messenger.send(person, compose())
        except Exception as error:  # noqa: BLE001 - one bad send must not stop the others; it is retried
            log.error(
                f"{self.sender}_send_error",
                platform=messenger.platform,
                error=type(error).__name__,
                detail=str(error)[:300],
            )
            return SendResult(SendStatus.FAILED, f"{type(error).__name__}: {error}"[:500])

    def _record(
        self, ledger: NotificationLedger, entry: LedgerEntry, person: Person, platform: str, result: SendResult
    ) -> DeliveryOutcome:
        if result.status is SendStatus.SENT:
            ledger.mark_sent(entry.id)
            return DeliveryOutcome.SENT
        if result.status is SendStatus.UNREACHABLE:
            if person.reachable:
                self.people.set_reachable(int(person.id), False, actor=f"{self.sender}s ({platform})")  # type: ignore[arg-type]
            ledger.give_up(entry.id, f"unreachable on {platform}: {result.detail}", self.max_attempts)
            return DeliveryOutcome.UNREACHABLE
        if result.status in (SendStatus.NO_ADDRESS, SendStatus.UNCERTAIN):
            # Uncertain: the platform may have shown it; a second copy is worse than a missing one.
            ledger.give_up(entry.id, f"{result.status.value}: {result.detail}", self.max_attempts)
            return DeliveryOutcome.GAVE_UP
        ledger.mark_failed(entry.id, result.detail or "send failed")
        if entry.attempts >= self.max_attempts:
            ledger.give_up(entry.id, f"gave up after {entry.attempts} tries: {result.detail}", self.max_attempts)
            return DeliveryOutcome.GAVE_UP
        return DeliveryOutcome.FAILED
