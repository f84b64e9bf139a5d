"""The durable work queue: stored once, claimed by one worker at a time, taken over when a worker dies,
and paced per channel without holding anyone else up (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from storage.work_queue import WorkQueue, work_queue_depth

LEASE = timedelta(seconds=30)
NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = NOON) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_retried_event_is_stored_once(database) -> None:
    queue = WorkQueue(database)
    first = queue.enqueue("slack.answer", "slack:T:C1", {"text": "hello"}, "slack:Ev1")
    assert first is not None
    assert queue.enqueue("slack.answer", "slack:T:C1", {"text": "hello"}, "slack:Ev1") is None
    assert work_queue_depth(database)["ready"] == 1


def test_racing_workers_each_claim_different_work_and_none_twice(database) -> None:
    queue = WorkQueue(database)
    for n in range(12):
        queue.enqueue("slack.answer", f"slack:T:C{n}", {"n": n}, f"slack:Ev{n}")
    with ThreadPoolExecutor(max_workers=6) as pool:
        claims = list(pool.map(lambda n: queue.claim(f"worker{n}", LEASE), range(18)))
    claimed = [work.id for work in claims if work is not None]
    assert len(claimed) == 12 and len(set(claimed)) == 12


def test_a_channel_answers_in_order_one_at_a_time(database) -> None:
    queue = WorkQueue(database)
    first = queue.enqueue("slack.answer", "slack:T:C1", {}, "a")
    second = queue.enqueue("slack.answer", "slack:T:C1", {}, "b")
    other = queue.enqueue("slack.answer", "slack:T:C2", {}, "c")
    work = queue.claim("w1", LEASE)
    assert work is not None and work.id == first
    # The channel's second piece of work waits for the first; another channel's does not.
    following = queue.claim("w2", LEASE)
    assert following is not None and following.id == other
    assert queue.claim("w3", LEASE) is None
    assert queue.complete(work)
    after = queue.claim("w3", LEASE)
    assert after is not None and after.id == second


def test_work_whose_worker_died_is_taken_over_when_the_lease_runs_out(database) -> None:
    clock = Clock()
    queue = WorkQueue(database, clock=clock)
    queue.enqueue("slack.answer", "slack:T:C1", {"text": "q"}, "ev")
    dead = queue.claim("dead-process", LEASE)
    assert dead is not None and dead.attempts == 1
    assert queue.claim("alive", LEASE) is None
    clock.now += LEASE + timedelta(seconds=1)
    taken = queue.claim("alive", LEASE)
    assert taken is not None and taken.id == dead.id and taken.attempts == 2
    # The dead claim can no longer change the work: the new claimer's progress stands.
    assert queue.save_progress(dead, {"posted": [0]}) is False
    assert queue.complete(dead) is False
    assert queue.complete(taken, {"posted": [0]}) is True
    assert work_queue_depth(database) == {"ready": 0, "leased": 0, "done": 1, "failed": 0}


def test_a_held_channel_waits_while_other_channels_go_on(database) -> None:
    clock = Clock()
    queue = WorkQueue(database, clock=clock)
    limited = queue.enqueue("slack.answer", "slack:T:LIMITED", {}, "a")
    queue.enqueue("slack.answer", "slack:T:LIMITED", {}, "b")
    work = queue.claim("w", LEASE)
    assert work is not None and work.id == limited
    retry_at = clock.now + timedelta(seconds=30)
    queue.release(work, retry_at, "rate_limited")
    assert queue.hold_channel(work.channel_key, retry_at) == 1
    healthy = queue.enqueue("slack.answer", "slack:T:HEALTHY", {}, "c")
    found = queue.claim("w", LEASE)
    assert found is not None and found.id == healthy
    assert queue.claim("w", LEASE) is None
    assert queue.next_due() == retry_at
    clock.now = retry_at
    again = queue.claim("w", LEASE)
    assert again is not None and again.id == limited


def test_a_stopping_process_hands_its_leases_back_at_once(database) -> None:
    queue = WorkQueue(database)
    queue.enqueue("slack.answer", "slack:T:C1", {}, "a")
    assert queue.claim("stopping", LEASE) is not None
    assert queue.release_owner("stopping") == 1
    assert queue.claim("next", LEASE) is not None


def test_only_kinds_the_worker_can_do_are_claimed(database) -> None:
    queue = WorkQueue(database)
    queue.enqueue("teams.answer", "teams:conv", {}, "a")
    assert queue.claim("slack-only", LEASE, ["slack.answer"]) is None
    assert queue.claim("teams", LEASE, ["teams.answer"]) is not None


def test_waiting_its_turn_uses_up_no_tries(database) -> None:
    queue = WorkQueue(database)
    queue.enqueue("slack.answer", "slack:T:C1", {}, "a")
    work = queue.claim("w", LEASE)
    assert work is not None and work.attempts == 1
    queue.release(work, work.created_at, "paced", was_attempt=False)
    again = queue.claim("w", LEASE)
    assert again is not None and again.attempts == 1
    queue.release(again, again.created_at, "uncertain")
    third = queue.claim("w", LEASE)
    assert third is not None and third.attempts == 2
