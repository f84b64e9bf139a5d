"""A stored slash command's answer against the fake Slack's response_url: a 500 is tried again and the
answer arrives once; a part the last process was posting when it died is not posted a second time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from handlers.slack.command_work import COMMAND_KIND, SlackCommandWork, queue_command
from storage.base import utc_now
from storage.db import Database
from storage.work_queue import WorkQueue
from tests.slack.fake_slack import FakeSlack
from workflows.replies import Reply, ReplyKind
from workflows.work_runner import Done, Later

LEASE = timedelta(seconds=30)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def _stored(queue: WorkQueue, fake: FakeSlack) -> str:
    response_url = fake.response_url()
    stored = queue_command(
        lambda kind, channel, payload, key: queue.enqueue(kind, channel, payload, key),
        team_id="T1",
        user_id="U1",
        channel_id="C1",
        text="status",
        response_url=response_url,
        trigger_id="trigger-1",
    )
    assert stored
    return response_url


def _answer(payload: dict[str, object]) -> list[Reply]:
    return [Reply(f"Your command was: {payload['text']}", ReplyKind.ANSWER)]


def test_the_same_request_is_stored_once_and_a_500_is_tried_again_then_answered_once(
    database: Database, fake: FakeSlack
) -> None:
    queue = WorkQueue(database)
    response_url = _stored(queue, fake)
    assert not queue_command(
        lambda kind, channel, payload, key: queue.enqueue(kind, channel, payload, key),
        team_id="T1",
        user_id="U1",
        channel_id="C1",
        text="status",
        response_url=response_url,
        trigger_id="trigger-1",
    )
    fake.fail_next("response_url", "internal_error", status=500)
    work = SlackCommandWork(_answer)
    claimed = queue.claim("w1", LEASE, [COMMAND_KIND])
    assert claimed is not None
    assert isinstance(work(claimed, queue), Later)
    queue.release(claimed, utc_now(), "server_error")  # as the runner does, without waiting out the delay
    again = queue.claim("w1", LEASE, [COMMAND_KIND])
    assert again is not None and again.progress["messages"]
    assert isinstance(work(again, queue), Done)
    answered = fake.calls_to("response_url")
    assert [call.args["text"] for call in answered] == ["Your command was: status"]


def test_a_part_being_posted_when_the_process_died_is_not_posted_again(database: Database, fake: FakeSlack) -> None:
    queue = WorkQueue(database)
    _stored(queue, fake)
    claimed = queue.claim("dead", LEASE, [COMMAND_KIND])
    assert claimed is not None
    messages = [{"text": "first part", "blocks": []}, {"text": "second part", "blocks": []}]
    queue.save_progress(claimed, {"messages": messages, "posted": [], "sending": 0})
    queue.release_owner("dead")
    resumed = queue.claim("alive", LEASE, [COMMAND_KIND])
    assert resumed is not None
    assert isinstance(SlackCommandWork(_answer)(resumed, queue), Done)
    assert [call.args["text"] for call in fake.calls_to("response_url")] == ["second part"]
