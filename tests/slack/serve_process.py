"""``commissioning-bot serve`` as a real process, and signed mentions sent to it, for the restart tests.

Each process is started the way an operator starts it (``python -m bot serve``), pointed at the fake
Slack and at a database the test chooses; it can be killed outright (``kill -9``) or stopped with SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from storage.db import open_database
from storage.work_queue import work_queue_depth
from tests.conftest import REPO_ROOT
from tests.slack.fake_slack import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack
from tests.slack.harness import SIGNING_SECRET, free_port, sign

LEASE_SECONDS = 3
GRACE_SECONDS = 3


class ServeProcess:
    def __init__(self, fake: FakeSlack, database_url: str, data_dir: Path, log_dir: Path, name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "WORK_LEASE_SECONDS": str(LEASE_SECONDS),
            "SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "INDEX_POLL_SECONDS": "0",
        }
        # Keyword search only: these tests are about delivery, and a process starts in a second or two without
        # loading the embedding model and embedding the starter guidance.
        env["EMBEDDING_MODEL_DIR"] = str(data_dir / "no-embedding-model")
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=data_dir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited early: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve never became ready: {self.log_tail()}")

    def kill_outright(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._log.close()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def log_events(self, name: str) -> list[dict[str, Any]]:
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and f'"{name}"' in line:
                found.append(json.loads(line))
        return found


def mention_event(channel: str, ts: str, text: str, user: str) -> dict[str, Any]:
    return {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts, "channel": channel}


def send_event(url: str, slack_event: dict[str, Any], event_id: str, retry: int | None = None) -> httpx.Response:
    """POST one Events API request to ``url``'s /slack/events, signed as Slack signs it."""
    body = json.dumps(
        {
            "team_id": TEAM_ID,
            "api_app_id": "A0COMMAPP1",
            "event": slack_event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
        }
    )
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, timestamp),
    }
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return httpx.post(f"{url}/slack/events", content=body.encode(), headers=headers, timeout=10)


def queue_depth(database_url: str) -> dict[str, int]:
    database = open_database(database_url)
    try:
        return work_queue_depth(database)
    finally:
        database.dispose()


def answered_threads(fake: FakeSlack, channel: str) -> dict[str, list[tuple[int, int]]]:
    """Each thread's answer tags (work id, part) in posting order."""
    threads: dict[str, list[tuple[int, int]]] = {}
    for message in fake.messages_in(channel):
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        threads.setdefault(str(message.get("thread_ts")), []).append((payload.get("work_id"), payload.get("part")))
    return threads


def assert_each_answered_once(fake: FakeSlack, channel: str, thread_ids: list[str]) -> None:
    threads = answered_threads(fake, channel)
    assert sorted(threads) == sorted(thread_ids), f"{len(threads)} of {len(thread_ids)} threads answered"
    for thread, parts in threads.items():
        assert len({work_id for work_id, _ in parts}) == 1, f"thread {thread} answered by two pieces of work"
        assert [part for _, part in parts] == list(range(len(parts))), f"thread {thread}: parts {parts}"
