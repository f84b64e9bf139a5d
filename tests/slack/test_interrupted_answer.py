"""A message whose working out was cut short (the process died before its replies were stored) is not worked out
a second time, since it may already have moved the officer's review conversation on: the next worker tells the
officer instead. Posted to the fake Slack Web API on loopback, through the product's own queue and worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from handlers.slack.answers import ANSWER_KIND, SlackAnswerWork, delivery_client, queue_answer
from storage.work_queue import WorkQueue
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from workflows.replies import INTERRUPTED, Reply
from workflows.work_runner import Done

CHANNEL = "D0OFFICER1"


class ProcessDied(BaseException):
    """Stands for the process stopping outright: nothing after it runs, nothing catches it."""


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def test_a_message_cut_short_while_worked_out_is_not_worked_out_again(database, fake: FakeSlack) -> None:
    queue = WorkQueue(database)
    stored = queue_answer(
        queue.enqueue,
        event_id="Ev0CUTSHORT",
        team_id="T0COUNCIL",
        channel=CHANNEL,
        user="U0OFFICER1",
        text="yes",
        conversation_key="slack:T0COUNCIL:U0OFFICER1",
        thread_ts=None,
        join_thread=None,
    )
    assert stored
    steps: list[str] = []

    def dies_while_applying(payload: dict[str, Any]) -> list[Reply]:
        steps.append(payload["text"])
        raise ProcessDied

    def applies(payload: dict[str, Any]) -> list[Reply]:
        steps.append(payload["text"])
        return [Reply("Step applied.")]

    client = delivery_client(BOT_TOKEN, fake.api_url)
    first = queue.claim("first", timedelta(milliseconds=200), [ANSWER_KIND])
    assert first is not None
    with pytest.raises(ProcessDied):
        SlackAnswerWork(client, dies_while_applying, lambda channel: 0.0)(first, queue)

    time.sleep(0.3)  # the dead process's lease runs out
    second = queue.claim("second", timedelta(seconds=30), [ANSWER_KIND])
    assert second is not None and second.id == first.id
    assert SlackAnswerWork(client, applies, lambda channel: 0.0)(second, queue) == Done(kept={})

    assert steps == ["yes"]  # the conversation step was not applied a second time
    [notice] = fake.messages_in(CHANNEL)
    assert notice["text"] == INTERRUPTED
