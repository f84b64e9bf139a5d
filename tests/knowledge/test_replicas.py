"""Two ``serve`` replicas, each with its own empty data folder, on one database and one Chroma server,
answering in Slack from guidance a third process indexes — and from a changed file — with no restart.

Everything runs as real processes on loopback: ``chroma run``, two ``commissioning-bot serve``, and
``commissioning-bot index``; Slack is the fake Slack Web API, and questions are signed Events API requests.
The database is PostgreSQL when TEST_DATABASE_URL is set (a schema of this test's own), else one SQLite file.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import MODEL_DIR, REPO_ROOT
from tests.db_fixtures import TEST_DATABASE_URL, _create_schema, _drop_schema, postgres_url_for_schema
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.harness import SIGNING_SECRET, SlackSender, free_port

CHANNEL = "C0GUIDANCE"
ASKER = "U0ASKER001"
FLEET = "# Fleet\n\nThe fleet manager owns every vehicle replacement review.\n"
CHANGED = "# Fleet\n\nThe transport director owns every vehicle replacement review.\n"


@pytest.fixture
def shared_database_url(tmp_path: Path) -> Iterator[str]:
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    schema = f"test_replicas_{uuid.uuid4().hex[:10]}"
    _create_schema(schema)
    try:
        yield postgres_url_for_schema(schema)
    finally:
        _drop_schema(schema)


def _wait(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _healthz(port: int) -> dict[str, object]:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    except httpx.HTTPError:
        return {}
    return response.json() if response.status_code == 200 else {}


@pytest.mark.skipif(not MODEL_DIR.exists(), reason="the shared embedding model is not present")
def test_replicas_follow_guidance_indexed_elsewhere_without_a_restart(tmp_path: Path, shared_database_url: str) -> None:
    chroma_bin = Path(sys.executable).parent / "chroma"
    assert chroma_bin.exists(), "chromadb's `chroma` command is installed with the project"
    fake = FakeSlack().start()
    fake.add_user(ASKER, "Asha Patel", "asha.patel@council.gov.uk")
    chroma_port = free_port()
    processes: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], data_dir: Path, log_name: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": shared_database_url,
            "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": str(chroma_port),
            "EMBEDDING_MODEL_DIR": str(MODEL_DIR),
            "STARTER_PACK": "off",
            "INDEX_POLL_SECONDS": "1",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "LOG_LEVEL": "WARNING",
        }
        out = (tmp_path / f"{log_name}.out").open("wb")
        log = (tmp_path / f"{log_name}.log").open("wb")
        process = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=log)
        processes.append(process)
        return process

    (tmp_path / "chroma").mkdir()
    start([str(chroma_bin), "run", "--path", str(tmp_path / "chroma"), "--port", str(chroma_port)], tmp_path, "chroma")
    try:
        _wait(
            lambda: _try(lambda: httpx.get(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat").status_code == 200),
            30,
            "the Chroma server",
        )
        ports = [free_port(), free_port()]
        for n, port in enumerate(ports):
            start([sys.executable, "-m", "bot", "serve", "--port", str(port)], tmp_path / f"replica{n}", f"serve{n}")
        for port in ports:
            _wait(lambda port=port: _healthz(port).get("status") == "ready", 180, f"replica on {port} to be ready")

        folder = tmp_path / "guidance"
        folder.mkdir()
        (folder / "fleet.md").write_text(FLEET, encoding="utf-8")
        version = _index(folder, start, tmp_path)
        for port in ports:
            # Picked up within the poll interval; the issue asks for within 60 seconds.
            _wait(lambda port=port: _healthz(port).get("index_version") == version, 60, "the new index version")
            _ask_and_expect(fake, port, "Who owns vehicle replacement reviews?", "fleet manager")

        (folder / "fleet.md").write_text(CHANGED, encoding="utf-8")
        changed = _index(folder, start, tmp_path)
        assert changed > version
        for port in ports:
            _wait(lambda port=port: _healthz(port).get("index_version") == changed, 60, "the changed file's version")
            _ask_and_expect(fake, port, "Who owns vehicle replacement reviews?", "transport director")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        fake.stop()
        shutil.rmtree(tmp_path / "chroma", ignore_errors=True)


def _try(check):  # type: ignore[no-untyped-def]
    try:
        return check()
    except httpx.HTTPError:
        return False


def _index(folder: Path, start, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    process = start([sys.executable, "-m", "bot", "index", "--json", str(folder)], tmp_path / "indexer", "index")
    assert process.wait(timeout=180) == 0, (tmp_path / "index.log").read_text(errors="replace")[-2000:]
    return int(json.loads((tmp_path / "index.out").read_text())["version"])


def _ask_and_expect(fake: FakeSlack, port: int, question: str, expected: str) -> None:
    sender = SlackSender(f"http://127.0.0.1:{port}", fake)
    before = len(fake.calls_to("chat.postMessage", channel=CHANNEL))
    # Every event Slack sends has an id of its own; the replicas share the record of those answered.
    response, _ = sender.mention(ASKER, CHANNEL, question, event_id=f"Ev{uuid.uuid4().hex[:12].upper()}")
    assert response.status_code == 200
    calls = fake.wait_for("chat.postMessage", count=before + 1, timeout=30, channel=CHANNEL)
    text = " ".join(str(call.args.get("text") or "") + str(call.args.get("blocks") or "") for call in calls[before:])
    assert expected in text, text[:500]
