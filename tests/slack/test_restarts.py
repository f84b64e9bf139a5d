"""Nothing Slack was told "got it" for is lost: real ``serve`` processes killed with ``kill -9``, stopped with
SIGTERM, restarted, and run as two replicas on one PostgreSQL database; every mention answered exactly once.

Mentions go in one channel, so Slack's pace (about one message a second) keeps most of them waiting in
the queue when the process dies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.slack.fake_slack import FakeSlack, wait_until
from tests.slack.serve_process import (
    GRACE_SECONDS,
    ServeProcess,
    answered_threads,
    assert_each_answered_once,
    mention_event,
    queue_depth,
    send_event,
)

ASKER = "U0ASKER001"
QUESTION = "What should the Analyse stage cover?"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.add_user(ASKER, "Asha Patel", "asha.patel@council.gov.uk")
    yield fake
    fake.stop()


def _mentions(url: str, channel: str, count: int, prefix: str) -> list[tuple[dict[str, object], str]]:
    sent = []
    for n in range(count):
        ts = f"{int(time.time())}.{n + 1:06d}"
        event, event_id = mention_event(channel, ts, f"{QUESTION} ({n})", ASKER), f"Ev{prefix}{n:04d}"
        response = send_event(url, event, event_id)
        assert (response.status_code, response.content) == (200, b""), response.text
        sent.append((event, event_id))
    return sent


# Mentions in one channel: answered about one a second, so most are still queued when the process is stopped.
MENTIONS = 12


def _all_done(database_url: str) -> bool:
    depth = queue_depth(database_url)
    return depth["ready"] + depth["leased"] == 0


@pytest.mark.parametrize("slack_retries", [False, True], ids=["no-retries", "with-retries"])
def test_kill_9_with_acknowledged_work_pending_then_restart_answers_every_mention_once(
    tmp_path: Path, fake: FakeSlack, slack_retries: bool
) -> None:
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = ServeProcess(fake, database_url, tmp_path, tmp_path, "first")
    channel = "C0KILLNINE"
    try:
        first.wait_until_ready()
        sent = _mentions(first.url, channel, MENTIONS, "KILL")
        wait_until(lambda: len(fake.messages_in(channel)) >= 2, timeout=60)
        first.kill_outright()
    finally:
        first.stop()
    answered_before = len(answered_threads(fake, channel))
    pending = queue_depth(database_url)
    assert pending["ready"] + pending["leased"] > 0 and answered_before < MENTIONS, (answered_before, pending)

    second = ServeProcess(fake, database_url, tmp_path, tmp_path, "second")
    try:
        second.wait_until_ready()
        if slack_retries:
            # Slack retries what it thinks was missed; each retry is acknowledged and adds nothing.
            for event, event_id in sent:
                response = send_event(second.url, event, event_id, retry=1)
                assert (response.status_code, response.content) == (200, b"")
        wait_until(lambda: _all_done(database_url), timeout=120)
    finally:
        second.stop()
    assert_each_answered_once(fake, channel, [str(event["ts"]) for event, _ in sent])


def test_sigterm_exits_within_the_grace_period_and_a_restart_answers_the_rest(tmp_path: Path, fake: FakeSlack) -> None:
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = ServeProcess(fake, database_url, tmp_path, tmp_path, "first")
    channel = "C0SIGTERM1"
    try:
        first.wait_until_ready()
        sent = _mentions(first.url, channel, MENTIONS, "TERM")
        wait_until(lambda: len(fake.messages_in(channel)) >= 1, timeout=60)
        first.terminate()
        # Inside Docker's ten seconds: the grace period, plus the interpreter's own exit.
        first.process.wait(timeout=GRACE_SECONDS + 5)
    finally:
        first.stop()
    [stopped] = first.log_events("work_runner_stopped")
    assert stopped["left_ready"] > 0, stopped
    assert len(answered_threads(fake, channel)) < MENTIONS

    second = ServeProcess(fake, database_url, tmp_path, tmp_path, "second")
    try:
        second.wait_until_ready()
        wait_until(lambda: _all_done(database_url), timeout=120)
    finally:
        second.stop()
    assert_each_answered_once(fake, channel, [str(event["ts"]) for event, _ in sent])


def test_two_replicas_on_one_postgres_database_answer_a_retried_event_once(
    tmp_path: Path, fake: FakeSlack, fresh_postgres_url: str
) -> None:
    replicas = [
        ServeProcess(fake, fresh_postgres_url, tmp_path / name, tmp_path, name) for name in ("replica-a", "replica-b")
    ]
    channel = "C0REPLICAS"
    try:
        for replica in replicas:
            replica.wait_until_ready()
        sent = []
        for n in range(10):
            ts = f"{int(time.time())}.{n + 1:06d}"
            event, event_id = mention_event(channel, ts, f"{QUESTION} ({n})", ASKER), f"EvREPL{n:04d}"
            # The event reaches one replica and Slack's retry the other, as behind a load balancer.
            first, retry = (replicas[0], replicas[1]) if n % 2 else (replicas[1], replicas[0])
            assert send_event(first.url, event, event_id).status_code == 200
            assert send_event(retry.url, event, event_id, retry=1).status_code == 200
            sent.append(event)
        wait_until(lambda: _all_done(fresh_postgres_url), timeout=120)
        time.sleep(1)  # a duplicate post, if there were one, would land now
    finally:
        for replica in replicas:
            replica.stop()
    assert_each_answered_once(fake, channel, [str(event["ts"]) for event in sent])
