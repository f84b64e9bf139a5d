"""A process that stops after a sweep queued its reminders: another process's workers send each one, once.

The sweep claims each reminder in the ledger and stores the work of sending it in one transaction. A worker that
leased the work and died before sending leaves it to whoever is alive once its lease runs out; a worker that died
while sending (the platform may have shown it) is never repeated blindly. Later sweeps see the reminder claimed and
queue nothing more, however long it waits.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from handlers.slack.notify import SlackNotifier
from storage.notifications import NotificationLedger
from storage.work_queue import WorkQueue
from tests.nudges.helpers import World, at, message_workers, no_waiting
from workflows.delivery import NudgeSweep
from workflows.messaging import message_kind
from workflows.nudge_types import NudgePolicy

DUES = [date(2026, 11, 30), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]
MOMENT = at("2026-11-24 10:00")  # Tuesday: each owner's five-day reminder, and nothing else
LEASE = timedelta(seconds=0.5)


def test_work_left_by_a_dead_worker_is_sent_once_by_another(database, fake_slack, slack_client) -> None:
    world = World(database)
    lead = world.person("Lee Lead")  # no chat account: only the owners have something due
    for user_id, name in (("U0OWNER001", "Sam Owner"), ("U0OWNER002", "Kim Owner")):
        fake_slack.add_user(user_id, name, name.lower().replace(" ", ".") + "@council.gov.uk")
        world.review(f"{name}'s review", world.person(name, slack=user_id), lead, lead, DUES)
    notifier = SlackNotifier(slack_client, pacer=no_waiting())
    sweep = NudgeSweep(database, NudgePolicy(), [notifier])
    assert sweep.run(MOMENT).queued == 2

    # A process leases both pieces of work and stops: before sending the first, while sending the second.
    queue = WorkQueue(database)
    dead = "crashed-host:4242:0"
    first = queue.claim(dead, LEASE, [message_kind("slack")])
    second = queue.claim(dead, LEASE, [message_kind("slack")])
    assert first is not None and second is not None and first.id != second.id
    assert queue.save_progress(second, {"sending": True})

    # Sweeps after it, even past the ledger's ten minutes for an abandoned claim, leave the queued work alone.
    for minutes in (5, 11, 60):
        later = sweep.run(MOMENT + timedelta(minutes=minutes))
        assert (later.queued, later.claimed_elsewhere) == (0, 2)

    # Another process's worker takes over once the leases have run out.
    time.sleep(LEASE.total_seconds() + 0.1)
    assert message_workers(database, [notifier]).run_until_idle() == 2
    posts = fake_slack.calls_to("chat.postMessage")
    assert [call.args["channel"] for call in posts] == [f"D{first_channel(first.channel_key, world)}"]
    ledger = NotificationLedger(database)
    entries = {entry.review_id: entry for review in (1, 2) for entry in ledger.for_review(review)}
    sent = entries[int(first.payload["entry"])]
    assert (sent.status, sent.attempts) == ("sent", 1)
    unsure = entries[int(second.payload["entry"])]
    assert unsure.status == "failed" and unsure.last_error.startswith("uncertain")
    # Nothing is sent again: not by a later sweep, not by the workers.
    assert sweep.run(MOMENT + timedelta(hours=2)).queued == 0
    assert message_workers(database, [notifier]).run_until_idle() == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    # Finished work keeps no message text (the ledger is the record of what was sent).
    for work_id in (first.id, second.id):
        row = queue.get(work_id)
        assert row is not None and row["state"] == "done" and "reply" not in row["payload"]


def first_channel(channel_key: str, world: World) -> str:
    """The Slack DM channel (as the fake names it) of the person a work channel key belongs to."""
    person = world.people.get(int(channel_key.rsplit(":", 1)[1]))
    assert person is not None and person.slack_user_id
    return person.slack_user_id[1:]
