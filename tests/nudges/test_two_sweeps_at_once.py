"""Two (or four) sweeps at the same moment, in threads and in processes: every nudge is queued, and sent, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from handlers.slack.notify import SlackNotifier
from storage.work_queue import WorkQueue
from tests.conftest import REPO_ROOT
from tests.nudges.helpers import World, at, message_workers, no_waiting, run_workers_until_done
from workflows.delivery import NudgeSweep
from workflows.nudge_types import NudgePolicy

DUES = [date(2026, 11, 30), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]
OWNERS = 12
MOMENT = at("2026-11-23 10:00")


@pytest.fixture
def crowd(database, fake_slack):  # type: ignore[no-untyped-def]
    """Twelve owners with a review each, one lead and one portfolio holder: thirteen messages due at MOMENT."""
    world = World(database)
    fake_slack.add_user("U0LEAD0001", "Lee Lead", "lee.lead@council.gov.uk")
    fake_slack.add_user("U0HOLD0001", "Pat Holder", "pat.holder@council.gov.uk")
    lead = world.person("Lee Lead", slack="U0LEAD0001")
    holder = world.person("Pat Holder", slack="U0HOLD0001")
    for number in range(OWNERS):
        user_id = f"U0OWNER{number:03d}"
        fake_slack.add_user(user_id, f"Owner {number}", f"owner.{number}@council.gov.uk")
        owner = world.person(f"Owner {number}", slack=user_id)
        world.review(f"Review {number}", owner, lead, holder, DUES)
    return world


def assert_each_sent_once(fake_slack) -> None:  # type: ignore[no-untyped-def]
    posts = fake_slack.calls_to("chat.postMessage")
    per_channel = Counter(call.args["channel"] for call in posts)
    assert len(per_channel) == OWNERS + 1, per_channel
    assert set(per_channel.values()) == {1}, per_channel


def test_sweeps_in_four_threads_queue_each_nudge_once_and_workers_send_it_once(crowd, fake_slack, slack_client) -> None:
    barrier = threading.Barrier(4)
    reports = []
    notifier = SlackNotifier(slack_client, pacer=no_waiting())

    def sweep() -> None:
        # As the scheduler runs it: the sweep only claims and queues; the work queue's workers send.
        runner = NudgeSweep(crowd.database, NudgePolicy(), [notifier])
        runner.plan(MOMENT)
        barrier.wait()
        reports.append(runner.run(MOMENT))

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(report.queued for report in reports) == OWNERS + 1
    assert sum(report.claimed_elsewhere for report in reports) == 3 * (OWNERS + 1)
    assert fake_slack.calls_to("chat.postMessage") == []
    assert WorkQueue(crowd.database).depth()["ready"] == OWNERS + 1

    # Three workers at once, each claiming from the queue.
    depth = run_workers_until_done(message_workers(crowd.database, [notifier], threads=3))
    assert (depth["done"], depth["failed"]) == (OWNERS + 1, 0)
    assert_each_sent_once(fake_slack)


def test_sweeps_in_three_processes_send_each_nudge_once(crowd, fake_slack, tmp_path) -> None:
    url = crowd.database.engine.url.render_as_string(hide_password=False)
    start_file = tmp_path / "start"
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "LOG_LEVEL": "WARNING"}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.nudges.sweep_worker",
                url,
                fake_slack.api_url,
                MOMENT.isoformat(),
                str(start_file),
            ],
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    start_file.touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    # Each process queued its own share of the claims, and sent what it could; between them, everything once.
    assert sum(result["queued"] for result in results) == OWNERS + 1
    sent_keys = [key for result in results for key in result["keys"]]
    assert len(sent_keys) == len(set(sent_keys))
    assert_each_sent_once(fake_slack)
    with crowd.database.engine.connect() as connection:
        statuses = connection.execute(sa.text("SELECT status, attempts FROM notification_ledger")).all()
    assert sorted(statuses) == [("sent", 1)] * (OWNERS + 1)
