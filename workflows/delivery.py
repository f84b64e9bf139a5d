"""One nudge sweep: plan what is due, then hand each nudge to the work queue to be sent exactly once.

For every nudge the plan offers (``workflows/nudges.py``), :class:`NudgeSweep`:

1. skips it when the notification ledger says it was sent, gave up, failed too
   recently (backoff: 2, 4, 8, 16 minutes after each failed try) or is being sent
   by another worker right now;
2. **claims** its ledger row (review, stage, person, kind, period: one unique key)
   and, in the same transaction, stores the work of sending it in the durable work
   queue (:class:`~workflows.messaging.Courier`). The database lets exactly one
   claimer win, so two instances sweeping at the same moment never both queue it;
3. the work queue's workers (in whichever process is alive) send it through the
   person's platform (a :class:`Messenger`: Slack first when they have a Slack id,
   else Teams), then mark the row sent, or failed with the reason. After
   ``NUDGE_MAX_ATTEMPTS`` tries it stays failed for good. A person a platform refuses
   for good (Teams 403, Slack ``account_inactive``) is marked unreachable and
   skipped from then on.

Pacing (Slack about one message a second per conversation, Teams about seven) and
``Retry-After`` put one person's work back until its time, without holding a worker
or anyone else's messages. A sweep built with ``send_now`` (``commissioning-bot
nudges run``) sends what may go at once itself and reports how each went.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog

from knowledge.models import AnswerKind
from storage.base import utc_now
from storage.db import Database
from storage.models import NotificationStatus, Person, ReviewStatus
from storage.notifications import ABANDONED_AFTER, NotificationLedger
from storage.nudges import LedgerState, NudgeStore
from storage.review_snapshots import ChecklistItem, ReviewSnapshot
from storage.reviews import ReviewRepository, load_summaries, review_table
from workflows.cycle import CycleConfig
from workflows.guidance_questions import KnowledgeSource
from workflows.messaging import Courier, Delivery, DeliveryOutcome, Messenger, Parcel, Postmark, retry_delay
from workflows.nudge_messages import Tip, TipSource, compose_digest_message, compose_stage_message
from workflows.nudge_types import Nudge, NudgeKind, NudgePlan, NudgePolicy, Recipient
from workflows.nudges import plan_nudges
from workflows.replies import Reply

__all__ = ["CycleTips", "GuidanceTips", "NudgeSweep", "SweepReport"]

log = structlog.get_logger(__name__)

TIP_CHARS = 400


@dataclass
class SweepReport:
    at: datetime
    planned: int = 0
    held: int = 0
    queued: int = 0  # claimed, and handed to the work queue to send
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    already_done: int = 0
    claimed_elsewhere: int = 0
    waiting_to_retry: int = 0
    unreachable: int = 0
    no_platform: int = 0
    deferred: int = 0  # queued, still waiting their turn (pacing, Retry-After) when a send_now sweep finished
    plan_seconds: float = 0.0
    total_seconds: float = 0.0
    sent_keys: list[str] = field(default_factory=list)

    def as_fields(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if name not in ("sent_keys", "at")}


# --- tips from the guidance ---------------------------------------------------------------------


class CycleTips:
    """The stage's own description from the cycle file: the tip when the guidance has nothing to say."""

    def __init__(self, cycle: CycleConfig) -> None:
        self._cycle = cycle

    def tip(self, stage_name: str) -> Tip | None:
        stage = self._cycle.stage(stage_name)
        if stage is None or not stage.description:
            return None
        return Tip(stage.description)


class GuidanceTips:
    """A short quoted passage about each stage, asked of the guidance once per stage and kept.

    Asking the knowledge base costs a search, so the answer is cached for the
    life of the process; a stage the guidance does not cover falls back to the
    cycle file's description.
    """

    def __init__(self, knowledge: Callable[[], KnowledgeSource], fallback: TipSource | None = None) -> None:
        """``knowledge`` opens the guidance when the first tip is asked for."""
        self._knowledge = knowledge
        self._fallback = fallback
        self._cache: dict[str, Tip | None] = {}
        self._lock = threading.Lock()

    def tip(self, stage_name: str) -> Tip | None:
        key = stage_name.casefold()
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        found = self._ask(stage_name)
        if found is None and self._fallback is not None:
            found = self._fallback.tip(stage_name)
        with self._lock:
            self._cache[key] = found
        return found

    def _ask(self, stage_name: str) -> Tip | None:
        try:
            answer = self._knowledge().ask(f"What happens in the {stage_name} stage?")
        except Exception as error:  # noqa: BLE001 - a reminder without a tip is better than no reminder
            log.warning("nudge_tip_unavailable", stage=stage_name, error=type(error).__name__)
            return None
        if answer.kind not in (AnswerKind.ANSWERED, AnswerKind.UNSURE) or not answer.citations:
            return None
        citation = answer.citations[0]
        text = " ".join(citation.text.split())
        if len(text) > TIP_CHARS:
            cut = text.rfind(". ", 0, TIP_CHARS)
            text = text[: cut + 1] if cut > TIP_CHARS // 3 else text[: TIP_CHARS - 1].rstrip() + "…"
        return Tip(text=text, source=citation.source, section=citation.section)


# --- the sweep -------------------------------------------------------------------------------------------


@contextmanager
def _few_collections() -> Iterator[None]:
    """No cyclic garbage collection while a sweep runs: it makes tens of thousands of small objects that all live
    until it ends, and the collector walking them again and again would cost a third of the sweep. What is
    garbage is collected as usual afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class NudgeSweep:
    def __init__(
        self,
        database: Database,
        policy: NudgePolicy,
        messengers: Sequence[Messenger] = (),
        *,
        tips: TipSource | None = None,
        max_attempts: int = 5,
        clock: Callable[[], datetime] = utc_now,
        send_now: bool = False,
    ) -> None:
        """``send_now``: send what is queued in the calling thread before :meth:`run` returns (a command run from a
        terminal); otherwise the work queue's workers send it."""
        self.database = database
        self.policy = policy
        self.courier = Courier(
            database, messengers, max_attempts=max_attempts, clock=clock, sender="nudge", send_now=send_now
        )
        self.messengers = self.courier.messengers
        self.tips = tips
        self.max_attempts = max_attempts
        self.clock = clock
        self.reviews = ReviewRepository(database)
        self.store = NudgeStore(database)

    # --- planning ---------------------------------------------------------------------------

    def plan(self, now: datetime | None = None) -> tuple[NudgePlan, dict[int, Person]]:
        """Load what the policy needs (a fixed number of queries) and plan the sweep at ``now``."""
        with _few_collections():
            return self._plan(now)

    def _plan(self, now: datetime | None = None) -> tuple[NudgePlan, dict[int, Person]]:
        now = now or self.clock()
        # The open reviews picked by the database in one query each for reviews, stages and people (not a list of
        # ids sent back to it in chunks).
        open_ids = sa.select(review_table.c.id).where(review_table.c.status == ReviewStatus.OPEN.value)
        with self.database.engine.connect() as connection:
            reviews = load_summaries(connection, open_ids)
        person_ids: set[int] = set()
        holders: set[int] = set()
        for review in reviews:
            person_ids.add(review.lead_commissioner.id)
            person_ids.add(review.portfolio_holder.id)
            holders.add(review.portfolio_holder.id)
            current = review.current_stage
            if current is not None:
                person_ids.add(current.owner.id)
        people = self.store.people(person_ids)
        recipients = {person_id: self._recipient(person) for person_id, person in people.items()}
        plan = plan_nudges(
            reviews,
            recipients,
            now,
            self.policy,
            # Every snooze, ended ones too: an ended snooze is the milestone its reminder came back on.
            snoozes=self.store.snoozes(),
            digest_anchors=self.store.anchor_reviews(holders),
            feedback_waiting=self.store.feedback_waiting(holders),
        )
        return plan, people

    def _recipient(self, person: Person) -> Recipient:
        recipient = Recipient.from_person(person)
        # Only platforms this process can send through count: a Teams-only person waits for Teams to be set up.
        platforms = tuple(name for name, messenger in self.messengers.items() if messenger.can_reach(person))
        return (
            Recipient(recipient.id, recipient.name, recipient.timezone, recipient.reachable, platforms)
            if self.messengers
            else recipient
        )

    def pending(self, nudges: Sequence[Nudge], now: datetime) -> tuple[list[Nudge], dict[str, int]]:
        """The nudges worth claiming now, and counts of the rest by reason (one ledger query per 900 nudges)."""
        states = self.store.ledger_states([nudge.key for nudge in nudges])
        counts = {"already_done": 0, "claimed_elsewhere": 0, "waiting_to_retry": 0}
        ready: list[Nudge] = []
        for nudge in nudges:
            state = states.get(nudge.key)
            reason = self._not_ready(state, now)
            if reason is None:
                ready.append(nudge)
            else:
                counts[reason] += 1
        return ready, counts

    def _not_ready(self, state: LedgerState | None, now: datetime) -> str | None:
        if state is None:
            return None
        if state.status == NotificationStatus.SENT.value:
            return "already_done"
        if state.status == NotificationStatus.FAILED.value:
            if state.attempts >= self.max_attempts:
                return "already_done"
            return None if now >= state.claimed_at + retry_delay(state.attempts) else "waiting_to_retry"
        # Claimed: another worker is sending it, unless it has been too long and that worker died.
        return None if state.claimed_at < now - ABANDONED_AFTER else "claimed_elsewhere"

    # --- running -----------------------------------------------------------------------------

    def run(self, now: datetime | None = None) -> SweepReport:
        with _few_collections():
            return self._run(now)

    def _run(self, now: datetime | None) -> SweepReport:
        started = time.perf_counter()
        now = now or self.clock()
        report = SweepReport(at=now)
        plan, people = self.plan(now)
        report.plan_seconds = round(time.perf_counter() - started, 3)
        report.planned, report.held = len(plan.nudges), len(plan.held)
        ready, counts = self.pending(plan.nudges, now)
        report.already_done = counts["already_done"]
        report.claimed_elsewhere = counts["claimed_elsewhere"]
        report.waiting_to_retry = counts["waiting_to_retry"]
        if ready:
            self._deliver(ready, people, now, report)
        elif self.courier.send_now:
            self.courier.send_queued()  # messages queued earlier that may go now (their turn came)
        report.total_seconds = round(time.perf_counter() - started, 3)
        log.info("nudge_sweep", **report.as_fields())
        return report

    def _deliver(
        self, nudges: Sequence[Nudge], people: Mapping[int, Person], now: datetime, report: SweepReport
    ) -> None:
        # A reminder shows its stage's checklist: only those are loaded, not whole reviews.
        checklists = self.reviews.checklists([nudge.stage_id for nudge in nudges if nudge.stage_id is not None])
        parcels = [
            Parcel(
                people.get(nudge.person_id),
                Postmark(nudge.review_id, nudge.stage_id, nudge.kind.value, nudge.period),
                lambda nudge=nudge: self.message_for(nudge, checklist=checklists.get(nudge.stage_id or 0)),  # type: ignore[misc]
            )
            for nudge in nudges
        ]
        # Claimed and queued in chunks, each chunk in one transaction.
        queued: list[str] = []
        for nudge, delivery in zip(nudges, self.courier.deliver_many(parcels, now=now), strict=True):
            self._record(nudge, delivery, report, queued)
        if self.courier.send_now and queued:
            self._outcomes(queued, report)

    def message_for(
        self, nudge: Nudge, snapshot: ReviewSnapshot | None = None, checklist: Sequence[ChecklistItem] | None = None
    ) -> Reply:
        if nudge.kind is NudgeKind.DIGEST:
            return compose_digest_message(nudge)
        tip = self.tips.tip(nudge.stage_name or "") if self.tips is not None else None
        return compose_stage_message(nudge, snapshot, tip, checklist)

    @staticmethod
    def _record(nudge: Nudge, delivery: Delivery, report: SweepReport, queued: list[str]) -> None:
        outcome = delivery.outcome
        if outcome is DeliveryOutcome.NO_PLATFORM:
            report.no_platform += 1
        elif outcome is DeliveryOutcome.CLAIMED_ELSEWHERE:
            report.claimed_elsewhere += 1
        else:
            report.queued += 1
            queued.append(nudge.key)

    def _outcomes(self, keys: Sequence[str], report: SweepReport) -> None:
        """How the nudges this sweep queued went, from the ledger (after sending them itself)."""
        for key, entry in NotificationLedger(self.database).entries(keys).items():
            if entry.status == NotificationStatus.SENT.value:
                report.sent += 1
                report.sent_keys.append(key)
            elif entry.status == NotificationStatus.CLAIMED.value:
                report.deferred += 1
            elif entry.attempts < self.max_attempts:
                report.failed += 1
            elif (entry.last_error or "").startswith("unreachable"):
                report.unreachable += 1
            else:
                report.gave_up += 1
