from __future__ import annotations

import threading

import pytest

from storage.notifications import MAX_ATTEMPTS, ClaimRequest, NotificationLedger
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


# --- chunks: many claims in one statement ---------------------------------------------------------


def _chunk(claim: dict, count: int) -> list[ClaimRequest]:
    return [ClaimRequest(**{**claim, "period": f"2026-11-{day:02d}"}) for day in range(1, count + 1)]


def test_a_chunk_is_claimed_once_however_many_sweeps_race_for_it(setting) -> None:
    _, ledger, claim = setting
    wanted = _chunk(claim, 20)
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(ledger.claim_many(wanted))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [key for result in results for key in result]
    assert len(won) == 20 and len(set(won)) == 20


def test_a_chunk_takes_over_failed_and_abandoned_claims_and_leaves_sent_ones(setting) -> None:
    clock, ledger, claim = setting
    first = ledger.claim_many(_chunk(claim, 3))
    sent, failed, abandoned = sorted(first.values(), key=lambda entry: entry.period)
    ledger.mark_sent_many([sent.id])
    ledger.mark_failed_many([(failed.id, "Slack answered 500")])
    retried = ledger.claim_many(_chunk(claim, 3))
    assert set(retried) == {failed.dedupe_key} and retried[failed.dedupe_key].attempts == 2
    ledger.mark_sent_many([retried[failed.dedupe_key].id])
    clock.advance(minutes=11)
    again = ledger.claim_many(_chunk(claim, 3))
    assert set(again) == {abandoned.dedupe_key} and again[abandoned.dedupe_key].attempts == 2
    assert ledger.get(sent.dedupe_key).status == "sent"


def test_claims_handed_back_untried_can_be_claimed_at_once(setting) -> None:
    _, ledger, claim = setting
    claimed = ledger.claim_many(_chunk(claim, 2))
    ledger.release_many(list(claimed.values()))
    again = ledger.claim_many(_chunk(claim, 2))
    assert set(again) == set(claimed) and all(entry.attempts == 1 for entry in again.values())
