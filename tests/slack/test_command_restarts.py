"""Slash commands Slack was told "got it" for are answered once even if the process is killed outright.

A real ``serve`` process gets a burst of ``/commissioning help`` commands in one channel; the fake Slack
rate-limits the first answer, so the rest wait in the queue when the process is killed with ``kill -9``.
A restarted process answers each command exactly once through its own ``response_url``, also when the
same requests arrive again.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.slack.fake_slack import TEAM_ID, FakeSlack, wait_until
from tests.slack.harness import sign
from tests.slack.serve_process import ServeProcess, queue_depth

ASKER = "U0ASKER001"
CHANNEL = "C0COMMANDS"


def send_command(url: str, text: str, response_url: str, trigger_id: str) -> httpx.Response:
    body = urlencode(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": CHANNEL,
            "user_id": ASKER,
            "command": "/commissioning",
            "text": text,
            "api_app_id": "A0COMMAPP1",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, timestamp),
    }
    return httpx.post(f"{url}/slack/events", content=body.encode(), headers=headers, timeout=10)


@pytest.mark.parametrize("repeated", [False, True], ids=["once", "sent-again"])
def test_kill_9_with_acknowledged_commands_pending_then_restart_answers_each_once(
    tmp_path: Path, repeated: bool
) -> None:
    fake = FakeSlack().start()
    fake.add_user(ASKER, "Asha Patel", "asha.patel@council.gov.uk")
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    # The first answer is rate-limited for 8 s: the channel's other answers wait in the queue behind it.
    fake.fail_next("response_url", "ratelimited", status=429, retry_after=8)
    first = ServeProcess(fake, database_url, tmp_path, tmp_path, "first")
    sent: list[tuple[str, str]] = []
    try:
        first.wait_until_ready()
        for _ in range(8):
            response_url, trigger_id = fake.response_url(), fake.new_trigger_id()
            response = send_command(first.url, "help", response_url, trigger_id)
            assert response.status_code == 200, response.text
            sent.append((response_url, trigger_id))
        wait_until(lambda: len(fake.calls_to("response_url", ok=False)) >= 1, timeout=60)
        first.kill_outright()
    finally:
        first.stop()
        pending = queue_depth(database_url)
    answered_before = {str(call.args["url"]) for call in fake.calls_to("response_url")}
    assert pending["ready"] + pending["leased"] > 0 and len(answered_before) < len(sent), (answered_before, pending)

    second = ServeProcess(fake, database_url, tmp_path, tmp_path, "second")
    try:
        second.wait_until_ready()
        if repeated:
            for response_url, trigger_id in sent:
                assert send_command(second.url, "help", response_url, trigger_id).status_code == 200
        wait_until(lambda: queue_depth(database_url)["ready"] + queue_depth(database_url)["leased"] == 0, timeout=120)
    finally:
        second.stop()
        fake.stop()
    posted: dict[str, list[str]] = {}
    for call in fake.calls_to("response_url"):
        posted.setdefault(str(call.args["url"]), []).append(str(call.args.get("text")))
    paths = ["/response/" + url.split("/response/")[1] for url, _ in sent]
    assert sorted(posted) == sorted(paths), f"{len(posted)} of {len(paths)} commands answered"
    for path, texts in posted.items():
        assert len(texts) == len(set(texts)), f"{path} got a part twice: {texts}"
        assert any("/commissioning" in text for text in texts), texts
