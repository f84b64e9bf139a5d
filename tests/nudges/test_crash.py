"""A sweep killed between claiming a reminder and sending it: a later sweep sends it, once.

The first sweep runs in a process of its own against a "Slack" that accepts the
connection and never answers, so it is stuck mid-send with its claim in the
ledger when the test kills it (SIGKILL: no clean-up runs).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta

from handlers.slack.notify import SlackNotifier
from storage.notifications import NotificationLedger
from tests.conftest import REPO_ROOT
from tests.nudges.helpers import World, at, no_waiting
from workflows.delivery import NudgeSweep
from workflows.nudge_types import NudgePolicy

DUES = [date(2026, 11, 30), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]
MOMENT = at("2026-11-24 10:00")  # Tuesday: the owner's five-day reminder, and nothing else


def test_a_sweep_killed_mid_send_is_finished_by_a_later_sweep(database, fake_slack, slack_client, tmp_path) -> None:
    world = World(database)
    fake_slack.add_user("U0OWNER001", "Sam Owner", "sam.owner@council.gov.uk")
    owner = world.person("Sam Owner", slack="U0OWNER001")
    lead = world.person("Lee Lead")  # no chat account: only the owner has something due
    world.review("Library services", owner, lead, lead, DUES)

    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(8)
    start_file = tmp_path / "start"
    start_file.touch()
    url = database.engine.url.render_as_string(hide_password=False)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.nudges.sweep_worker",
            url,
            f"http://127.0.0.1:{black_hole.getsockname()[1]}/api/",
            MOMENT.isoformat(),
            str(start_file),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ledger = NotificationLedger(database)
    try:
        deadline = time.monotonic() + 60
        while not [e for e in ledger.for_review(1) if e.status == "claimed"]:
            assert worker.poll() is None, "the worker stopped before claiming"
            assert time.monotonic() < deadline, "the worker never claimed the reminder"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        black_hole.close()
    [claimed] = ledger.for_review(1)
    assert (claimed.status, claimed.attempts) == ("claimed", 1)

    sweep = NudgeSweep(database, NudgePolicy(), [SlackNotifier(slack_client, pacer=no_waiting())])
    # Five minutes on the claim still looks like a sender at work; ten minutes on, it is taken over.
    assert sweep.run(MOMENT + timedelta(minutes=5)).claimed_elsewhere == 1
    assert fake_slack.calls_to("chat.postMessage") == []
    assert sweep.run(MOMENT + timedelta(minutes=11)).sent == 1
    assert sweep.run(MOMENT + timedelta(minutes=16)).sent == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    [entry] = ledger.for_review(1)
    assert (entry.status, entry.attempts) == ("sent", 2)
