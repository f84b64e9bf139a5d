"""The processed-event ledger: each platform event is handled once, across threads and restarts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from storage.db import open_database
from storage.events import ProcessedEvents
from tests.storage.review_helpers import Clock

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_only_the_first_sighting_of_an_event_counts(database) -> None:
    events = ProcessedEvents(database)
    assert events.first_time("slack", "Ev0001") is True
    assert events.first_time("slack", "Ev0001") is False
    # The same id from another platform is a different event.
    assert events.first_time("teams", "Ev0001") is True


def test_many_threads_racing_on_one_event_let_exactly_one_through(database) -> None:
    events = ProcessedEvents(database)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: events.first_time("slack", "EvRace"), range(16)))
    assert results.count(True) == 1


def test_events_are_remembered_across_a_restart(database) -> None:
    ProcessedEvents(database).first_time("slack", "EvRestart")
    reopened = open_database(database.engine.url.render_as_string(hide_password=False))
    try:
        assert ProcessedEvents(reopened).first_time("slack", "EvRestart") is False
    finally:
        reopened.dispose()


def test_very_long_ids_are_hashed_not_cut(database) -> None:
    events = ProcessedEvents(database)
    prefix = "x" * 300
    assert events.first_time("teams", prefix + "a") is True
    assert events.first_time("teams", prefix + "b") is True
    assert events.first_time("teams", prefix + "a") is False


def test_purge_forgets_old_events_only(database) -> None:
    clock = Clock(MONDAY_9AM)
    events = ProcessedEvents(database, clock=clock)
    events.first_time("slack", "EvOld")
    clock.now += timedelta(hours=30)
    events.first_time("slack", "EvNew")
    assert events.purge(timedelta(days=1)) == 1
    assert events.first_time("slack", "EvOld") is True
    assert events.first_time("slack", "EvNew") is False


def test_remembered_keys_are_seen_and_refreshing_keeps_them_from_the_purge(database) -> None:
    clock = Clock(MONDAY_9AM)
    events = ProcessedEvents(database, clock=clock)
    assert events.seen("slack-thread", "slack:T1:C1:1.1") is False
    events.remember("slack-thread", "slack:T1:C1:1.1")
    assert events.seen("slack-thread", "slack:T1:C1:1.1") is True
    clock.now += timedelta(hours=20)
    events.remember("slack-thread", "slack:T1:C1:1.1")  # a follow-up refreshes it
    clock.now += timedelta(hours=20)
    assert events.purge(timedelta(days=1)) == 0
    assert events.seen("slack-thread", "slack:T1:C1:1.1") is True
    assert events.seen("slack-thread", "y" * 400) is False
    events.remember("slack-thread", "y" * 400)
    assert events.seen("slack-thread", "y" * 400) is True
