"""Workers that do the queued work (``storage/work_queue.py``), in whichever process is alive.

A :class:`WorkRunner` runs a few threads. Each claims one piece of work with a lease, hands it to the
handler registered for its kind, and records what the handler says:

- :class:`Done`: finished;
- :class:`Later`: put back until a time (the channel's pacing, or ``Retry-After``; with ``hold_channel``
  nothing else in that channel goes first). The thread moves on at once to another channel's work, so a
  rate-limited channel never holds up anyone else;
- :class:`GiveUp`: failed for good (the platform refused it), kept with the reason.

A handler that raises is retried after 2, 4, 8 … seconds (at most a minute), up to ``max_attempts``.
Leases of work in hand are renewed while it runs, so slow work is not taken over; a process killed
outright loses its leases when they run out, and another process (or the restarted one) finishes the work.

:meth:`WorkRunner.stop` stops claiming, lets work in hand finish within a grace period, hands back any
lease still held and logs how much was left in the queue for the next process.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from storage.base import utc_now
from storage.work_queue import ClaimedWork, WorkQueue

__all__ = ["KEEP_ONLY_THE_KEY", "Done", "GiveUp", "Later", "Outcome", "WorkHandler", "WorkRunner"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Done:
    # What the work keeps once done, when less than it needed (None keeps it all); ``forget`` deletes it.
    kept: Mapping[str, Any] | None = None
    forget: bool = False


@dataclass(frozen=True)
class Later:
    at: datetime
    reason: str
    hold_channel: bool = False
    was_attempt: bool = True  # False when only waiting (pacing, Retry-After): no try is used up


@dataclass(frozen=True)
class GiveUp:
    reason: str
    kept: Mapping[str, Any] | None = None  # what the failed work keeps for an operator (None keeps it all)


Outcome = Done | Later | GiveUp
WorkHandler = Callable[[ClaimedWork, WorkQueue], Outcome]

# What delivered work keeps: its key only (a platform's retry still finds it and adds nothing). The question, who
# asked and the rendered answer need not outlive the delivery.
KEEP_ONLY_THE_KEY: Mapping[str, Any] = {}
MAX_RETRY_DELAY = timedelta(minutes=1)
PURGE_EVERY_SECONDS = 3600
# Done work is kept a while after it is finished: Slack retries for up to an hour, and its key must still be there.
KEEP_DONE_FOR = timedelta(days=7)


def retry_delay(attempts: int) -> timedelta:
    return min(MAX_RETRY_DELAY, timedelta(seconds=2**attempts))


class WorkRunner:
    def __init__(
        self,
        queue: WorkQueue,
        *,
        threads: int = 4,
        lease: timedelta = timedelta(seconds=30),
        poll_seconds: float = 1.0,
        max_attempts: int = 8,
        grace_seconds: float = 8.0,
    ) -> None:
        self.queue = queue
        self.grace_seconds = grace_seconds
        self.threads = max(1, threads)
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._handlers: dict[str, WorkHandler] = {}
        self._wake = threading.Condition()
        self._signalled = False
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        self._in_hand: dict[int, ClaimedWork] = {}
        self._in_hand_lock = threading.Lock()
        self._started = False
        self._stopped = False
        self._start_lock = threading.Lock()
        self.before_each: Callable[[], None] | None = None  # e.g. let a burst of acknowledgements go first

    # --- set-up ---------------------------------------------------------------------------------

    def handles(self, kind: str, handler: WorkHandler) -> None:
        self._handlers[kind] = handler

    def start(self) -> None:
        """Start the threads (once; later calls do nothing)."""
        with self._start_lock:
            if self._started:
                return
            self._started = True
            for number in range(self.threads):
                worker = threading.Thread(target=self._work, name=f"work-{number}", daemon=True)
                worker.start()
                self._workers.append(worker)
            renewer = threading.Thread(target=self._renew_leases, name="work-leases", daemon=True)
            renewer.start()
        log.info("work_runner_started", threads=self.threads, lease_seconds=self.lease.total_seconds())

    # --- adding work ------------------------------------------------------------------------------

    def enqueue(self, kind: str, channel_key: str, payload: dict[str, object], dedup_key: str) -> int | None:
        """Store the work (before the platform is acknowledged) and wake a worker; None for a duplicate."""
        work_id = self.queue.enqueue(kind, channel_key, payload, dedup_key)
        if work_id is not None:
            self.wake()
        return work_id

    def wake(self) -> None:
        with self._wake:
            self._signalled = True
            self._wake.notify()

    def run_until_idle(self, limit: int | None = None) -> int:
        """Do the work that may run now in the calling thread, one piece after another, until none is left (a
        command run from a terminal sends what it queued before it exits); returns how many pieces were worked.
        Work put back until later (pacing, ``Retry-After``) stays queued for the workers."""
        worked = 0
        while limit is None or worked < limit:
            work = self.queue.claim(self.owner, self.lease, list(self._handlers))
            if work is None:
                break
            self._run(work)
            worked += 1
        return worked

    # --- working ----------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                # Only kinds this process can do: a replica without Teams leaves Teams work to one with it.
                work = self.queue.claim(self.owner, self.lease, list(self._handlers))
            except Exception as error:  # noqa: BLE001 - the database may be briefly away; keep the worker alive
                log.warning("work_claim_failed", error=type(error).__name__, detail=str(error)[:200])
                work = None
            if work is None:
                self._idle()
                continue
            with self._in_hand_lock:
                self._in_hand[work.id] = work
            try:
                self._run(work)
            finally:
                with self._in_hand_lock:
                    self._in_hand.pop(work.id, None)
            # Finishing in one channel may let the next piece of work in that channel go.
            self.wake()

    def _idle(self) -> None:
        """Wait for new work, or until the earliest waiting row is due, or a poll for other processes' work."""
        timeout = self.poll_seconds
        try:
            due = self.queue.next_due()
        except Exception:  # noqa: BLE001 - polling again later is the answer
            due = None
        if due is not None and due > utc_now():
            timeout = max(0.01, min(timeout, (due - utc_now()).total_seconds()))
        # Work that is due but was not claimable sits behind a busy channel: whoever finishes there wakes us.
        with self._wake:
            if not self._signalled and not self._stopping.is_set():
                self._wake.wait(timeout)
            self._signalled = False

    def _run(self, work: ClaimedWork) -> None:
        handler = self._handlers.get(work.kind)
        fields = {"work_id": work.id, "kind": work.kind, "attempt": work.attempts}
        if handler is None:
            self.queue.fail(work, f"no handler for {work.kind}")
            log.error("work_without_handler", **fields)
            return
        if self.before_each is not None:
            self.before_each()
        started = time.perf_counter()
        try:
            outcome = handler(work, self.queue)
        except Exception as error:  # noqa: BLE001 - one piece of work failing must not stop the worker
            detail = f"{type(error).__name__}: {str(error)[:200]}"
            if work.attempts >= self.max_attempts:
                self.queue.fail(work, detail)
                log.error("work_gave_up", detail=detail, **fields)
            else:
                delay = retry_delay(work.attempts)
                self.queue.release(work, utc_now() + delay, detail)
                log.warning("work_failed_will_retry", detail=detail, retry_in=delay.total_seconds(), **fields)
            return
        seconds = round(time.perf_counter() - started, 3)
        if isinstance(outcome, Done):
            finished = (
                self.queue.forget(work)
                if outcome.forget
                else self.queue.complete(work, {} if outcome.kept is not None else None, outcome.kept)
            )
            if finished:
                log.info("work_done", seconds=seconds, **fields)
            else:
                log.warning("work_lease_lost", **fields)
        elif isinstance(outcome, Later):
            self.queue.release(work, outcome.at, outcome.reason, was_attempt=outcome.was_attempt)
            if outcome.hold_channel:
                self.queue.hold_channel(work.channel_key, outcome.at)
            log.info("work_waits", reason=outcome.reason, until=outcome.at.isoformat(), **fields)
        else:
            self.queue.fail(work, outcome.reason, outcome.kept)
            log.warning("work_refused", reason=outcome.reason, **fields)

    def _renew_leases(self) -> None:
        """Renew leases of work in hand every third of a lease; now and then forget work finished a week ago."""
        interval = max(0.2, self.lease.total_seconds() / 3)
        next_purge = time.monotonic() + PURGE_EVERY_SECONDS
        while not self._stopping.wait(interval):
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_EVERY_SECONDS
                try:
                    purged = self.queue.purge(KEEP_DONE_FOR)
                    if purged:
                        log.info("work_queue_purged", rows=purged)
                except Exception as error:  # noqa: BLE001 - tried again at the next purge
                    log.warning("work_queue_purge_failed", error=type(error).__name__)
            with self._in_hand_lock:
                ids = list(self._in_hand)
            if not ids:
                continue
            try:
                self.queue.renew(self.owner, ids, self.lease)
            except Exception as error:  # noqa: BLE001 - renewal is retried on the next beat
                log.warning("work_lease_renewal_failed", error=type(error).__name__)

    # --- stopping -------------------------------------------------------------------------------

    def stop(self, grace_seconds: float | None = None) -> dict[str, int]:
        """Stop claiming; let work in hand finish within ``grace_seconds``; hand back what is still held.

        Returns (and logs) how much work each state holds afterwards, so an operator can see what the next
        process will pick up. Safe to call more than once.
        """
        if self._stopped:
            return {}
        self._stopped = True
        grace_seconds = self.grace_seconds if grace_seconds is None else grace_seconds
        started = time.monotonic()
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        deadline = started + max(0.0, grace_seconds)
        for worker in self._workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        unfinished = [worker.name for worker in self._workers if worker.is_alive()]
        handed_back = self.queue.release_owner(self.owner) if self._started else 0
        try:
            left = self.queue.depth()
        except Exception:  # noqa: BLE001 - stopping must not fail on a report
            left = {}
        log.info(
            "work_runner_stopped",
            seconds=round(time.monotonic() - started, 2),
            unfinished_threads=len(unfinished),
            handed_back=handed_back,
            left_ready=left.get("ready", 0),
            left_leased=left.get("leased", 0),
        )
        return {"handed_back": handed_back, **left}
