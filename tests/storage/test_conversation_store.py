from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from storage.conversations import ConversationRecord, SqlConversationStore, StaleConversationError
from tests.storage.review_helpers import Clock

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_9AM)


@pytest.fixture
def store(database, clock) -> SqlConversationStore:
    return SqlConversationStore(database, clock=clock)


def test_a_saved_conversation_comes_back_as_it_was_left(store: SqlConversationStore, clock: Clock) -> None:
    saved = store.put(
        ConversationRecord(
            key="slack:T1:U1:1712345678.0001",
            flow="create_review",
            step="due_dates",
            answers={"service": "Home care", "outcomes": ["Fewer hospital admissions"], "owner": {"id": 3}},
            trail=["service", "outcomes"],
        )
    )

    loaded = store.get("slack:T1:U1:1712345678.0001")

    assert loaded == saved
    assert loaded.version == 1
    assert loaded.answers["outcomes"] == ["Fewer hospital admissions"]
    assert loaded.trail == ["service", "outcomes"]
    assert loaded.started_at == clock.now and loaded.updated_at == clock.now
    assert loaded.updated_at.tzinfo is not None


def test_an_unknown_key_has_no_conversation(store: SqlConversationStore) -> None:
    assert store.get("teams:nobody") is None


def test_a_stale_write_is_refused_and_the_newer_answer_kept(store: SqlConversationStore) -> None:
    first = store.put(ConversationRecord(key="k", flow="create_review", step="service"))
    newer = store.put(
        ConversationRecord(key="k", flow="create_review", step="outcomes", answers={"service": "Libraries"}, version=1)
    )

    with pytest.raises(StaleConversationError):
        store.put(ConversationRecord(key="k", flow="create_review", step="level", version=first.version))

    assert store.get("k") == newer
    assert newer.version == 2


def test_starting_a_conversation_twice_under_one_key_is_refused(store: SqlConversationStore) -> None:
    store.put(ConversationRecord(key="k", flow="create_review", step="service"))

    with pytest.raises(StaleConversationError):
        store.put(ConversationRecord(key="k", flow="other_flow"))

    assert store.get("k").flow == "create_review"


def test_started_at_is_kept_and_updated_at_moves_on(store: SqlConversationStore, clock: Clock) -> None:
    started = clock.now
    saved = store.put(ConversationRecord(key="k", flow="f", step="a"))
    clock.now += timedelta(minutes=5)

    saved = store.put(
        ConversationRecord(key="k", flow="f", step="b", started_at=saved.started_at, version=saved.version)
    )

    loaded = store.get("k")
    assert loaded.started_at == started
    assert loaded.updated_at == started + timedelta(minutes=5)


def test_changing_a_returned_record_does_not_change_the_store(store: SqlConversationStore) -> None:
    saved = store.put(ConversationRecord(key="k", flow="f", answers={"outcomes": ["a"]}))
    saved.answers["outcomes"].append("b")

    assert store.get("k").answers == {"outcomes": ["a"]}


def test_delete_forgets_the_conversation(store: SqlConversationStore) -> None:
    store.put(ConversationRecord(key="k", flow="f"))

    assert store.delete("k") is True
    assert store.get("k") is None
    assert store.delete("k") is False


def test_purge_idle_removes_only_conversations_left_too_long(store: SqlConversationStore, clock: Clock) -> None:
    store.put(ConversationRecord(key="old", flow="f"))
    clock.now += timedelta(hours=23)
    store.put(ConversationRecord(key="recent", flow="f"))
    clock.now += timedelta(hours=2)

    purged = store.purge_idle(timedelta(hours=24))

    assert purged == 1
    assert store.get("old") is None
    assert store.get("recent") is not None
    assert store.purge_idle(clock.now - timedelta(hours=1)) == 1


def test_two_workers_answering_at_once_cannot_both_win(store: SqlConversationStore) -> None:
    base = store.put(ConversationRecord(key="k", flow="f", step="service"))
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def answer(n: int) -> None:
        barrier.wait()
        try:
            store.put(ConversationRecord(key="k", flow="f", step=f"answer-{n}", version=base.version))
            outcomes.append("saved")
        except StaleConversationError:
            outcomes.append("stale")

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("saved") == 1
    assert outcomes.count("stale") == 7
    assert store.get("k").version == 2
