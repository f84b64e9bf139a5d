"""A sweep delivers through Slack's real Web API protocol (the fake Slack on loopback), exactly once.

Time is moved by handing the sweep the moment it runs at; nothing sleeps.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from handlers.slack.answers import delivery_client
from handlers.slack.context import ChannelPacer
from handlers.slack.notify import SlackNotifier
from storage.notifications import NotificationLedger
from tests.nudges.helpers import World, at, message_workers, no_waiting, run_workers_until_done
from tests.slack.fake_slack import BOT_TOKEN
from workflows.actions import NudgeActions
from workflows.cycle import load_cycle
from workflows.delivery import CycleTips, NudgeSweep
from workflows.messaging import retry_delay
from workflows.nudge_types import NudgeKind, NudgePolicy

DUES = [date(2026, 11, 30), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]


@pytest.fixture
def world(database, fake_slack):  # type: ignore[no-untyped-def]
    world = World(database)
    for user_id, name in (("U0OWNER001", "Sam Owner"), ("U0LEAD0001", "Lee Lead"), ("U0HOLD0001", "Pat Holder")):
        fake_slack.add_user(user_id, name, name.lower().replace(" ", ".") + "@council.gov.uk")
    world.owner = world.person("Sam Owner", slack="U0OWNER001")
    world.lead = world.person("Lee Lead", slack="U0LEAD0001")
    world.holder = world.person("Pat Holder", slack="U0HOLD0001")
    world.review_id = world.review("Library services", world.owner, world.lead, world.holder, DUES)
    return world


def sweep_for(world: World, slack_client, **options) -> NudgeSweep:  # type: ignore[no-untyped-def]
    notifier = SlackNotifier(slack_client, pacer=options.pop("pacer", no_waiting()))
    return NudgeSweep(world.database, NudgePolicy(), [notifier], tips=CycleTips(load_cycle()), send_now=True, **options)


def posts(fake_slack, channel: str | None = None):  # type: ignore[no-untyped-def]
    calls = fake_slack.calls_to("chat.postMessage")
    return [c for c in calls if channel is None or c.args.get("channel") == channel]


def test_the_owner_gets_one_dm_with_checklist_tip_and_buttons(world, fake_slack, slack_client) -> None:
    sweep = sweep_for(world, slack_client)
    report = sweep.run(at("2026-11-23 10:00"))
    assert (report.sent, report.failed) == (2, 0)  # the owner's reminder and the holder's Monday digest
    [reminder] = posts(fake_slack, "D0OWNER001")
    text = " ".join(block["text"]["text"] for block in reminder.args["blocks"] if block["type"] == "section")
    assert "Analyse of #1 “Library services” is due in 5 working days, on Mon 30 November 2026" in text
    assert "Checklist (0 of 4 done)" in text and "Evidence of need gathered" in text
    assert "Tip: Understand what residents need" in text
    actions = [
        element for block in reminder.args["blocks"] if block["type"] == "actions" for element in block["elements"]
    ]
    assert [a["text"]["text"] for a in actions] == [
        "Mark Analyse done",
        "Snooze 2 working days",
        "Reassign",
        "Open review",
    ]
    assert [a["action_id"].split(":")[0] for a in actions] == [
        NudgeActions.MARK_DONE,
        NudgeActions.SNOOZE,
        NudgeActions.REASSIGN,
        NudgeActions.OPEN_REVIEW,
    ]
    assert actions[1]["value"] == f"{world.review_id}:Analyse"
    [digest] = posts(fake_slack, "D0HOLD0001")
    assert "weekly commissioning digest" in digest.args["text"]

    # Every later sweep that week finds the ledger rows and sends nothing more.
    for moment in ("2026-11-23 10:05", "2026-11-24 11:00", "2026-11-26 16:00"):
        again = sweep.run(at(moment))
        assert again.sent == 0 and again.already_done == 2
    assert len(posts(fake_slack)) == 2
    # Friday brings the next milestone.
    assert sweep.run(at("2026-11-27 09:00")).sent == 1
    assert len(posts(fake_slack, "D0OWNER001")) == 2


def test_overdue_and_escalation_reach_the_owner_and_the_lead(world, fake_slack, slack_client) -> None:
    report = sweep_for(world, slack_client).run(at("2026-12-07 09:30"))
    assert report.sent == 3  # owner (overdue), lead (escalation), holder (digest)
    [escalation] = posts(fake_slack, "D0LEAD0001")
    assert "5 working days overdue" in escalation.args["text"] and "Sam Owner owns it" in escalation.args["text"]


def test_a_claim_whose_sender_died_is_sent_later_and_only_once(world, fake_slack, slack_client) -> None:
    sweep = sweep_for(world, slack_client)
    plan, _ = sweep.plan(at("2026-11-23 10:00"))
    [nudge] = [n for n in plan.nudges if n.kind is NudgeKind.DUE_SOON]
    # A worker claims the reminder and dies before sending it.
    claimed = NotificationLedger(world.database, clock=lambda: at("2026-11-23 10:00")).claim(
        review_id=nudge.review_id,
        stage_id=nudge.stage_id,
        person_id=nudge.person_id,
        kind=nudge.kind.value,
        period=nudge.period,
    )
    assert claimed is not None
    soon = sweep.run(at("2026-11-23 10:05"))
    assert soon.claimed_elsewhere == 1 and not posts(fake_slack, "D0OWNER001")
    later = sweep.run(at("2026-11-23 10:11"))
    assert later.sent == 1 and len(posts(fake_slack, "D0OWNER001")) == 1
    entry = NotificationLedger(world.database).get(nudge.key)
    assert (entry.status, entry.attempts) == ("sent", 2)
    assert sweep.run(at("2026-11-23 10:30")).sent == 0


def test_a_failed_send_is_retried_with_backoff_then_given_up(world, fake_slack, slack_client) -> None:
    sweep = sweep_for(world, slack_client, max_attempts=3)
    start = at("2026-11-30 10:00")
    fake_slack.fail_next("chat.postMessage", "internal_error")
    fake_slack.fail_next("chat.postMessage", "internal_error")  # the digest goes second
    first = sweep.run(start)
    assert first.failed == 2 and first.sent == 0
    assert sweep.run(start + timedelta(minutes=1)).waiting_to_retry == 2
    assert sweep.run(start + retry_delay(1)).sent == 2
    assert len(posts(fake_slack)) == 2

    # Three failures in a row: the reminder stays failed for good.
    tuesday = at("2026-12-01 10:00")
    for _ in range(3):
        fake_slack.fail_next("chat.postMessage", "internal_error")
    moment = tuesday
    for attempt in (1, 2, 3):
        report = sweep.run(moment)
        moment += retry_delay(attempt)
    assert report.gave_up == 1
    assert sweep.run(moment + timedelta(hours=1)).sent == 0
    key = [k for k in (n.key for n in sweep.plan(moment)[0].nudges) if "overdue" in k][0]
    entry = NotificationLedger(world.database).get(key)
    assert (entry.status, entry.attempts) == ("failed", 3) and "internal_error" in entry.last_error


def test_a_deactivated_slack_account_is_marked_unreachable_and_skipped(world, fake_slack, slack_client) -> None:
    sweep = sweep_for(world, slack_client)
    fake_slack.fail_next("chat.postMessage", "account_inactive")
    report = sweep.run(at("2026-11-24 10:00"))
    assert report.unreachable == 1
    assert world.people.get(world.owner.id).reachable is False
    later, _ = sweep.plan(at("2026-11-27 10:00"))
    assert [item.reason for item in later.held if item.nudge.person_id == world.owner.id] == [
        "marked unreachable (left, or blocked the app)"
    ]
    assert sweep.run(at("2026-11-27 10:00")).sent == 0


def test_a_429_for_one_person_holds_only_their_messages_and_pacing_never_sleeps(world, fake_slack) -> None:
    more = [world.review(f"Review {n}", world.owner, world.lead, world.holder, DUES) for n in range(3)]
    assert more
    # Slack answers the owner's first post with 429 and Retry-After; the client waits for nothing itself.
    fake_slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1, channel="D0OWNER001")
    notifier = SlackNotifier(delivery_client(BOT_TOKEN, fake_slack.api_url), pacer=ChannelPacer())
    sweep = NudgeSweep(world.database, NudgePolicy(), [notifier], send_now=True)
    first = sweep.run(at("2026-11-23 10:00"))
    # The holder's digest went at once; the owner's four reminders wait out the Retry-After in the queue.
    assert (first.queued, first.sent, first.deferred, first.failed) == (5, 1, 4, 0)
    assert [c.args["channel"] for c in posts(fake_slack)] == ["D0HOLD0001"]
    # A sweep meanwhile queues nothing again.
    assert sweep.run(at("2026-11-23 10:01")).claimed_elsewhere == 4

    # The workers send them once Slack lets them: the owner's DM keeps its pace (a burst of three, then one a
    # second), each message waiting its turn in the queue.
    depth = run_workers_until_done(message_workers(world.database, [notifier], threads=2))
    assert (depth["done"], depth["failed"]) == (5, 0)
    assert len(posts(fake_slack, "D0OWNER001")) == 4
    waits = [row for row in work_rows(world.database) if row["channel_key"].startswith("dm:slack:")]
    assert {row["last_error"] for row in waits} >= {"rate_limited", "paced"}
    entries = [
        e for review_id in (world.review_id, *more) for e in NotificationLedger(world.database).for_review(review_id)
    ]
    assert len(entries) == 5 and {(e.status, e.attempts) for e in entries} == {("sent", 1)}


def work_rows(database):  # type: ignore[no-untyped-def]
    with database.engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.text("SELECT * FROM work_item")).mappings()]
