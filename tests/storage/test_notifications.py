from __future__ import annotations

import threading

import pytest

from storage.notifications import MAX_ATTEMPTS, NotificationLedger
from tests.storage.review_helpers import Clock, add_team, draft_for, make_service


@pytest.fixture
def setting(database):
    clock = Clock()
    team = add_team(database)
    review = make_service(database, clock).create_review(draft_for(team, clock.today), team.actor(team.sam))
    ledger = NotificationLedger(database, clock=clock)
    claim = dict(
        review_id=review.id, stage_id=review.stages[0].id, person_id=team.owen.id, kind="due_soon", period="2026-11-23"
    )
    return clock, ledger, claim


def test_a_reminder_is_claimed_once_and_never_sent_twice(setting) -> None:
    clock, ledger, claim = setting
    first = ledger.claim(**claim)
    assert first is not None and first.status == "claimed" and first.attempts == 1

    assert ledger.claim(**claim) is None
    ledger.mark_sent(first.id)
    assert ledger.claim(**claim) is None
    assert ledger.get(first.dedupe_key).sent_at == clock.now
    assert ledger.claim(**{**claim, "period": "2026-11-24"}) is not None


def test_a_failed_send_can_be_retried_up_to_a_limit(setting) -> None:
    _, ledger, claim = setting
    entry = ledger.claim(**claim)
    for attempt in range(2, MAX_ATTEMPTS + 1):
        ledger.mark_failed(entry.id, "Slack answered 500")
        entry = ledger.claim(**claim)
        assert entry is not None and entry.attempts == attempt
    ledger.mark_failed(entry.id, "Slack answered 500")

    assert ledger.claim(**claim) is None
    assert ledger.get(entry.dedupe_key).last_error == "Slack answered 500"


def test_a_claim_abandoned_by_a_worker_that_died_is_taken_over(setting) -> None:
    clock, ledger, claim = setting
    ledger.claim(**claim)
    clock.advance(minutes=5)
    assert ledger.claim(**claim) is None
    clock.advance(minutes=6)
    assert ledger.claim(**claim).attempts == 2


def test_reminders_about_a_review_as_a_whole_are_deduplicated_too(setting) -> None:
    _, ledger, claim = setting
    whole_review = {**claim, "stage_id": None, "kind": "review_overdue"}
    assert ledger.claim(**whole_review) is not None
    assert ledger.claim(**whole_review) is None


def test_workers_racing_for_one_reminder_get_one_claim(setting) -> None:
    _, ledger, claim = setting
    results = []
    barrier = threading.Barrier(6)

    def race() -> None:
        barrier.wait()
        results.append(ledger.claim(**claim))

    threads = [threading.Thread(target=race) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1
