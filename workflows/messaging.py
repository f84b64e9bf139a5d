"""Messages the assistant starts (nudges, feedback invitations and reminders): one path to every platform.

A chat platform that can send someone a direct message is a :class:`Messenger`
(``handlers/slack/notify.py``, ``handlers/teams/notify.py``). :class:`Courier` is the
one way a message reaches a person, exactly once:

1. it picks the person's platform: the first messenger that can reach them (Slack
   first when they have a Slack id, else Teams); nobody marked unreachable;
2. it **claims** the message's row in the notification ledger (review, stage,
   person, kind, period: one unique key), so a second worker, a second scheduler or a
   retry never sends it again, and in the same transaction stores the work of sending
   it in the durable work queue (``storage/work_queue.py``): one row per message, kind
   ``message.<platform>``, in the person's own channel (so pacing and ``Retry-After``
   hold one person's messages, nobody else's), with the ledger key as its dedup key.
   A crash after the claim cannot lose the message: the work is there for whichever
   process is alive;
3. :class:`DirectMessageWork`, the work queue's handler, sends it and records what
   happened in the ledger: sent; failed (claimed again on a later run, up to
   ``max_attempts`` tries); or given up for good when the platform refuses the person
   (who is then marked unreachable), has no address for them, or may already have
   shown it (an uncertain send, or a try that stopped mid-send, is never repeated
   blindly). A platform that asks to wait (its pacing, or a 429's ``Retry-After``)
   puts the work back until then; no thread sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

import structlog

from knowledge.models import Citation
from storage.base import utc_now
from storage.db import Database
from storage.models import NotificationStatus, Person
from storage.notifications import ClaimRequest, LedgerEntry, NotificationLedger, dedupe_key, message_work_key
from storage.people import PeopleRepository
from storage.work_queue import ClaimedWork, WorkQueue
from workflows.replies import Button, Reply, ReplyKind
from workflows.work_runner import Done, Later, Outcome, WorkRunner

__all__ = [
    "Courier",
    "Delivery",
    "DeliveryOutcome",
    "DirectMessageWork",
    "Messenger",
    "Parcel",
    "Postmark",
    "SendResult",
    "SendStatus",
    "message_kind",
    "reply_from_json",
    "reply_to_json",
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
    parts_sent: int = 0  # of a reply sent in several messages, how many went before it stopped


class Messenger(Protocol):
    """A chat platform that can send a person a direct message."""

    platform: str

    def can_reach(self, person: Person) -> bool:
        """Whether this platform knows how to reach the person at all."""

    def send(self, person: Person, reply: Reply) -> SendResult:
        """Deliver the reply to the person's direct messages; never raises for a platform's refusal.

        A messenger may also offer ``next_turn(person) -> float`` (seconds until the person's conversation may
        have another message; 0 takes the turn) and ``send(person, reply, skip=n)`` (the first ``n`` messages
        of the reply went already); the work queue's handler uses them when they are there."""


def retry_delay(attempts: int) -> timedelta:
    """How long after a failed try (the ``attempts``-th) the next may start."""
    return RETRY_BASE * int(2 ** max(0, attempts - 1))


class Postmark(NamedTuple):
    """What makes a message one message in the ledger: it is sent once per (review, stage, person, kind, period).

    (A named tuple, as :class:`Parcel`: a sweep makes thousands, and a tuple is the cheapest thing to make.)"""

    review_id: int
    stage_id: int | None
    kind: str
    period: str


class DeliveryOutcome(StrEnum):
    QUEUED = "queued"  # claimed, and its sending stored in the work queue
    NO_PLATFORM = "no_platform"  # no configured platform can reach the person (or they are marked unreachable)
    CLAIMED_ELSEWHERE = "claimed_elsewhere"  # sent, being sent, or given up on, by this run or another


@dataclass(frozen=True)
class Delivery:
    outcome: DeliveryOutcome
    platform: str | None = None
    entry: LedgerEntry | None = None


class Parcel(NamedTuple):
    """One message for :meth:`Courier.deliver_many`: to whom, its ledger identity, and how to write it."""

    person: Person | None
    postmark: Postmark
    compose: Callable[[], Reply]


# Messages claimed and queued together, in one transaction.
CLAIM_CHUNK = 500
MESSAGE_KIND_PREFIX = "message."


def message_kind(platform: str) -> str:
    """The work queue's kind for a direct message on ``platform``: a process without that platform leaves it."""
    return MESSAGE_KIND_PREFIX + platform


def message_channel(platform: str, person_id: int) -> str:
    """One person's direct messages on one platform: paced, and held for ``Retry-After``, together."""
    return f"dm:{platform}:{person_id}"


# --- a reply as stored in the work queue ---------------------------------------------------------------


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """What a direct message says, as JSON for the work queue (text, kind, quoted guidance and buttons)."""
    data: dict[str, Any] = {"text": reply.text, "kind": reply.kind.value}
    if reply.citations:
        data["citations"] = [citation.to_json() for citation in reply.citations]
    if reply.buttons:
        data["buttons"] = [[b.label, b.value, b.action_id, b.style] for b in reply.buttons]
    return data


def reply_from_json(data: Mapping[str, Any]) -> Reply:
    citations = [
        Citation(
            str(c["source"]), str(c.get("section") or ""), str(c["text"]), float(c.get("score", 0.0)), c.get("link")
        )
        for c in data.get("citations", ())
    ]
    buttons = [Button(label, value, action_id, style) for label, value, action_id, style in data.get("buttons", ())]
    return Reply(str(data["text"]), ReplyKind(data.get("kind", ReplyKind.INFO.value)), citations, buttons)


# --- claiming and queueing -------------------------------------------------------------------------------


class Courier:
    def __init__(
        self,
        database: Database,
        messengers: Sequence[Messenger],
        *,
        max_attempts: int = 5,
        clock: Callable[[], datetime] = utc_now,
        sender: str = "nudge",
        send_now: bool = False,
    ) -> None:
        """``sender`` names what is being sent, in log events (``<sender>_send_error``) and the audit log.

        ``send_now``: after queueing, send whatever may go now in the calling thread (a command run from a
        terminal); otherwise the process's work queue workers send it."""
        self.database = database
        self.messengers = {messenger.platform: messenger for messenger in messengers}
        self.max_attempts = max_attempts
        self.clock = clock
        self.sender = sender
        self.people = PeopleRepository(database)
        self.queue = WorkQueue(database)
        self.send_now = send_now

    def messenger_for(self, person: Person | None) -> Messenger | None:
        # A leaver stays deactivated even if a platform later marks them reachable again.
        if person is None or not person.reachable or person.deactivated_at is not None:
            return None
        return next((m for m in self.messengers.values() if m.can_reach(person)), None)

    def deliver_many(self, parcels: Sequence[Parcel], *, now: datetime | None = None) -> list[Delivery]:
        """Claim each message in the ledger and store the work of sending it, a chunk at a time, each chunk in
        one transaction (two statements for the claims, one multi-row insert for the work). Returns one
        :class:`Delivery` per parcel; with ``send_now``, what may go now has gone when it returns."""
        moment = now or self.clock()
        ledger = NotificationLedger(self.database, clock=lambda: moment)
        deliveries: list[Delivery | None] = [None] * len(parcels)
        for start in range(0, len(parcels), CLAIM_CHUNK):
            self._queue_chunk(ledger, parcels, range(start, min(start + CLAIM_CHUNK, len(parcels))), deliveries)
        if self.send_now:
            self.send_queued()  # what this run queued, and anything queued earlier that may go now
        return [delivery or Delivery(DeliveryOutcome.NO_PLATFORM) for delivery in deliveries]

    def _queue_chunk(
        self, ledger: NotificationLedger, parcels: Sequence[Parcel], indexes: range, deliveries: list[Delivery | None]
    ) -> None:
        routed: list[tuple[int, Messenger, Person, str]] = []
        for index in indexes:
            person, messenger = parcels[index].person, self.messenger_for(parcels[index].person)
            if person is None or messenger is None:
                deliveries[index] = Delivery(DeliveryOutcome.NO_PLATFORM)
                continue
            postmark = parcels[index].postmark
            key = dedupe_key(postmark.review_id, postmark.stage_id, int(person.id), postmark.kind, postmark.period)  # type: ignore[arg-type]
            routed.append((index, messenger, person, key))
        if not routed:
            return
        requests = [
            ClaimRequest(
                parcels[i].postmark.review_id,
                parcels[i].postmark.stage_id,
                int(person.id),  # type: ignore[arg-type]  # people in the table always have an id
                parcels[i].postmark.kind,
                parcels[i].postmark.period,
            )
            for i, _, person, _ in routed
        ]
        # Written before the transaction: writing may ask the guidance, which must not wait on our write lock.
        replies = {index: reply_to_json(parcels[index].compose()) for index, _, _, _ in routed}
        with self.queue.writing() as connection:
            claims = ledger.claim_many(requests, connection)
            work: list[tuple[str, str, Mapping[str, Any], str]] = []
            for index, messenger, _, key in routed:
                entry = claims.get(key)
                if entry is None:
                    deliveries[index] = Delivery(DeliveryOutcome.CLAIMED_ELSEWHERE, messenger.platform)
                    continue
                payload = {
                    "entry": entry.id,
                    "attempt": entry.attempts,
                    "person": entry.person_id,
                    "sender": self.sender,
                    "max_attempts": self.max_attempts,
                    "reply": replies[index],
                }
                platform = messenger.platform
                work.append(
                    (message_kind(platform), message_channel(platform, entry.person_id), payload, message_work_key(key))
                )
                deliveries[index] = Delivery(DeliveryOutcome.QUEUED, platform, entry)
            # A message claimed before and tried again reuses its finished work row.
            self.queue.enqueue_many(work, connection, revive_finished=True)

    def send_queued(self) -> int:
        """Send, in this thread, the direct messages that may go now (through this courier's messengers)."""
        runner = WorkRunner(self.queue, threads=1)
        register_message_work(runner, self.database, lambda: list(self.messengers.values()))
        return runner.run_until_idle()


def register_message_work(
    runner: WorkRunner,
    database: Database,
    messengers: Callable[[], Sequence[Messenger]],
    platforms: Sequence[str] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Let ``runner`` send direct messages on ``platforms`` (default: those of the messengers, which are asked
    for only when the first message is sent)."""
    work = DirectMessageWork(database, messengers, clock=clock)
    for platform in platforms if platforms is not None else [m.platform for m in messengers()]:
        runner.handles(message_kind(platform), work)


# --- sending: the work queue's handler ---------------------------------------------------------------


class DirectMessageWork:
    """Sends one queued direct message and records the outcome in the notification ledger."""

    def __init__(
        self,
        database: Database,
        messengers: Callable[[], Sequence[Messenger]],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self._messengers = messengers
        self.clock = clock
        self.people = PeopleRepository(database)

    def __call__(self, work: ClaimedWork, queue: WorkQueue) -> Outcome:
        payload = work.payload
        ledger = NotificationLedger(self.database, clock=self.clock)
        entry = ledger.get_by_id(int(payload["entry"]))
        if entry is None or entry.status != NotificationStatus.CLAIMED.value or entry.attempts != payload["attempt"]:
            return _finished(work)  # sent, given up or claimed again since: this copy is out of date
        sender = str(payload.get("sender") or "message")
        max_attempts = int(payload.get("max_attempts") or 5)
        platform = work.kind.removeprefix(MESSAGE_KIND_PREFIX)
        person = self.people.get(entry.person_id)
        messenger = next((m for m in self._messengers() if m.platform == platform), None)
        if person is None or messenger is None or not person.reachable or person.deactivated_at is not None:
            # Left, blocked the assistant or erased since it was queued: nothing to send, for good.
            ledger.give_up(entry.id, f"no_platform: nobody to send to on {platform}", max_attempts)
            return _finished(work)
        progress = dict(work.progress)
        skip = int(progress.get("parts", 0))
        if progress.get("sending"):
            # A previous try stopped while sending (its process died): it may have arrived.
            result = SendResult(SendStatus.UNCERTAIN, "a previous try stopped while sending")
        else:
            next_turn = getattr(messenger, "next_turn", None)
            wait = float(next_turn(person)) if next_turn is not None else 0.0
            if wait > 0:
                # The rest of this person's messages wait behind it, so they keep their order.
                return Later(utc_now() + timedelta(seconds=wait), "paced", hold_channel=True, was_attempt=False)
            if not queue.save_progress(work, {**progress, "sending": True}):
                return Done()  # the lease ran out and another worker has the message now: it is theirs to send
            result = self._send(messenger, person, reply_from_json(payload["reply"]), skip, sender)
        if result.status is SendStatus.FAILED and result.retry_after is not None:
            # The platform asked to wait: this person's messages wait, nobody else's, and no try is used up.
            queue.save_progress(work, {"parts": skip + result.parts_sent, "sending": False})
            at = utc_now() + timedelta(seconds=max(1.0, result.retry_after))
            log.info(f"{sender}_send_throttled", platform=platform, retry_after=result.retry_after)
            return Later(at, "rate_limited", hold_channel=True, was_attempt=False)
        self._record(ledger, entry, person, platform, result, sender, max_attempts)
        return _finished(work)

    def _send(self, messenger: Messenger, person: Person, reply: Reply, skip: int, sender: str) -> SendResult:
        try:
            if skip:
                return messenger.send(person, reply, skip=skip)  # type: ignore[call-arg]
            return messenger.send(person, reply)
        except Exception as error:  # noqa: BLE001 - one bad send must not stop the others; it is retried
            log.error(
                f"{sender}_send_error",
                platform=messenger.platform,
                error=type(error).__name__,
                detail=str(error)[:300],
            )
            return SendResult(SendStatus.FAILED, f"{type(error).__name__}: {error}"[:500])

    def _record(
        self,
        ledger: NotificationLedger,
        entry: LedgerEntry,
        person: Person,
        platform: str,
        result: SendResult,
        sender: str,
        max_attempts: int,
    ) -> None:
        fields = {"kind": entry.kind, "review_id": entry.review_id, "stage_id": entry.stage_id}
        fields |= {"person_id": entry.person_id, "platform": platform, "attempt": entry.attempts}
        if result.status is SendStatus.SENT:
            ledger.mark_sent(entry.id)
            log.info(f"{sender}_sent", **fields)
            return
        if result.status is SendStatus.UNREACHABLE:
            if person.reachable:
                self.people.set_reachable(int(person.id), False, actor=f"{sender}s ({platform})")  # type: ignore[arg-type]
            ledger.give_up(entry.id, f"unreachable on {platform}: {result.detail}", max_attempts)
            log.warning(f"{sender}_recipient_unreachable", **fields)
            return
        if result.status in (SendStatus.NO_ADDRESS, SendStatus.UNCERTAIN):
            # Uncertain: the platform may have shown it; a second copy is worse than a missing one.
            ledger.give_up(entry.id, f"{result.status.value}: {result.detail}", max_attempts)
            log.warning(f"{sender}_not_retried", reason=result.status.value, **fields)
            return
        if entry.attempts >= max_attempts:
            ledger.give_up(entry.id, f"gave up after {entry.attempts} tries: {result.detail}", max_attempts)
            log.error(f"{sender}_gave_up", detail=result.detail[:200], **fields)
            return
        ledger.mark_failed(entry.id, result.detail or "send failed")
        log.warning(
            f"{sender}_send_failed",
            detail=result.detail[:200],
            retry_in_minutes=retry_delay(entry.attempts).total_seconds() / 60,
            **fields,
        )


def _finished(work: ClaimedWork) -> Outcome:
    """Done, with the message's text dropped from the finished work: the ledger is the record of what was sent,
    and work kept for a week must not keep what it said about people (an erased person included)."""
    return Done(kept={key: value for key, value in work.payload.items() if key != "reply"})
