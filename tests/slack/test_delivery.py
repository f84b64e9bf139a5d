"""Answers posted through the durable work queue, end to end: signed events in, the fake Slack's messages out.

A 5xx that Slack returns after posting is resolved by looking for the message's tag, not by an apology or a
second copy; a rate-limited channel waits in the queue while every other channel is answered.
"""

from __future__ import annotations

from typing import Any

from handlers.slack.answers import METADATA_EVENT_TYPE
from tests.slack.conftest import ALICE, OWEN
from tests.slack.fake_slack import wait_until


def answers_in(world: Any, channel: str) -> list[dict[str, Any]]:
    return world.fake.messages_in(channel)


def tags(messages: list[dict[str, Any]]) -> list[tuple[int, int]]:
    found = []
    for message in messages:
        metadata = message.get("metadata") or {}
        assert metadata.get("event_type") == METADATA_EVENT_TYPE, message
        payload = metadata["event_payload"]
        found.append((payload["work_id"], payload["part"]))
    return found


def test_every_answer_carries_its_work_tag(world) -> None:
    world.slack.mention(ALICE, "C0TAGGED01", "What should the Analyse stage cover?")
    wait_until(lambda: len(answers_in(world, "C0TAGGED01")) >= 1)
    [(work_id, part)] = tags(answers_in(world, "C0TAGGED01"))[:1]
    assert part == 0 and work_id > 0


def test_a_500_after_slack_posted_gives_the_answer_once_and_no_apology(world) -> None:
    channel = "C0FIVEHUN1"
    world.fake.fail_next("chat.postMessage", error="internal_error", status=500, after_effect=True, channel=channel)
    world.slack.mention(ALICE, channel, "Who approves sourcing decisions?")
    # The failed post, then the worker's look in the thread for the work's tag.
    world.fake.wait_for("conversations.replies", channel=channel, timeout=30)
    wait_until(lambda: world.services.work.queue.depth()["ready"] + world.services.work.queue.depth()["leased"] == 0)
    messages = answers_in(world, channel)
    assert len(tags(messages)) == len(set(tags(messages))), "a part was posted twice"
    assert messages and all("Sorry, something went wrong" not in (m["text"] or "") for m in messages)
    assert [part for _, part in tags(messages)] == list(range(len(messages)))


def test_a_500_before_slack_posted_is_posted_on_the_retry(world) -> None:
    channel = "C0FIVEHUN2"
    world.fake.fail_next("chat.postMessage", error="internal_error", status=500, channel=channel)
    world.slack.mention(OWEN, channel, "What does a portfolio holder do?")
    world.fake.wait_for("conversations.replies", channel=channel, timeout=30)
    wait_until(lambda: len(answers_in(world, channel)) >= 1, timeout=30)
    messages = answers_in(world, channel)
    assert len(tags(messages)) == len(set(tags(messages)))
    assert all("Sorry, something went wrong" not in (m["text"] or "") for m in messages)


def test_rate_limited_channels_do_not_hold_up_a_healthy_one(world) -> None:
    # More limited channels than worker threads: a worker asleep on each would leave none for the healthy one.
    limited = [f"C0LIMITED{n}" for n in range(6)]
    for channel in limited:
        world.fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=4, channel=channel)
        world.slack.mention(ALICE, channel, "What should the Plan stage cover?")
    for channel in limited:
        wait_until(lambda channel=channel: bool(world.fake.calls_to("chat.postMessage", ok=False, channel=channel)))
    world.slack.mention(OWEN, "C0HEALTHY1", "What should the Plan stage cover?")
    wait_until(lambda: len(answers_in(world, "C0HEALTHY1")) >= 1, timeout=30)
    # The healthy channel was answered while every limited one was still waiting out its Retry-After.
    assert all(not answers_in(world, channel) for channel in limited)
    for channel in limited:
        wait_until(lambda channel=channel: len(answers_in(world, channel)) >= 1, timeout=30)
        refused = world.fake.calls_to("chat.postMessage", ok=False, channel=channel)[-1]
        [posted] = world.fake.calls_to("chat.postMessage", channel=channel)[:1]
        assert posted.at - refused.at >= 3.9, "Retry-After was not honoured"
