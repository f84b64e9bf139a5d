"""Button presses and form submissions Slack was told "got it" for survive ``kill -9`` and happen once.

A real ``serve`` process gets a nudge's Snooze press; the fake Slack rate-limits the confirmation, so the
press's work waits in the queue (the snooze already saved with it) when the process is killed outright.
A restarted process confirms the snooze once, without snoozing again, and turns away Slack's retry of
the same press. It also gets a Reassign form submitted twice (Slack's retry of the same view), and Slack
posts the confirmation but answers 500: the stage moves once and the lead is told once.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from handlers.slack import blocks
from handlers.slack.actions.nudges import REASSIGN_CALLBACK, reassign_modal
from storage.audit import AuditRepository
from storage.db import open_database
from tests.nudges.helpers import World
from tests.slack.fake_slack import BOT_ID, TEAM_ID, FakeSlack, wait_until
from tests.slack.harness import SlackSender, user_select
from tests.slack.serve_process import ServeProcess, queue_depth
from workflows.actions import NudgeActions

OWNER, LEAD, NEW = "U0OWNER001", "U0LEAD0001", "U0NEWOWN01"
OWNER_DM, LEAD_DM = "D0OWNER001", "D0LEAD0001"
DUES = [date(2031, 3, 31), date(2031, 4, 30), date(2031, 5, 30), date(2031, 6, 30)]


def snooze_press(review_id: int) -> dict[str, Any]:
    """A press of Snooze on a nudge in the owner's direct messages, as Slack sends it (one fixed delivery)."""
    nudge_ts = "1900000000.000100"
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "council"},
        "user": {"id": OWNER, "team_id": TEAM_ID},
        "api_app_id": "A0COMMAPP1",
        "trigger_id": "1.1900000001.snooze",
        "container": {"type": "message", "message_ts": nudge_ts, "channel_id": OWNER_DM, "is_ephemeral": False},
        "channel": {"id": OWNER_DM},
        "message": {"type": "message", "ts": nudge_ts, "text": "Analyse is due soon", "blocks": [], "bot_id": BOT_ID},
        "actions": [
            {
                "type": "button",
                "action_id": f"{NudgeActions.SNOOZE}:1",
                "block_id": "nudge",
                "value": f"{review_id}:Analyse",
                "text": {"type": "plain_text", "text": "Snooze 2 working days"},
                "action_ts": "1900000002.000200",
            }
        ],
    }


def audited(database_url: str, review_id: int, action: str) -> int:
    database = open_database(database_url)
    try:
        return sum(1 for entry in AuditRepository(database).for_review(review_id) if entry.action == action)
    finally:
        database.dispose()


def texts_to(fake: FakeSlack, channel: str) -> list[str]:
    return [str(call.args.get("text")) for call in fake.calls_to("chat.postMessage", channel=channel)]


def test_a_press_survives_kill_9_and_a_retried_press_or_submission_happens_once(tmp_path: Path) -> None:
    fake = FakeSlack().start()
    for user_id, name in ((OWNER, "Sam Owner"), (LEAD, "Lee Lead"), (NEW, "Nia New")):
        fake.add_user(user_id, name, name.lower().replace(" ", ".") + "@council.gov.uk")
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    # The snooze's confirmation is rate-limited for a few seconds: its work waits in the queue, snooze saved.
    fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=8, channel=OWNER_DM)
    first = ServeProcess(fake, database_url, tmp_path, tmp_path, "first")
    try:
        first.wait_until_ready()
        database = open_database(database_url)
        world = World(database)
        owner, lead = world.person("Sam Owner", slack=OWNER), world.person("Lee Lead", slack=LEAD)
        holder = world.person("Pat Holder")
        world.person("Nia New", slack=NEW)
        review_id = world.review("Library services", owner, lead, holder, DUES)
        database.dispose()
        press = snooze_press(review_id)
        acknowledged = SlackSender(first.url, fake).interaction(press)
        assert (acknowledged.status_code, acknowledged.content) == (200, b"")
        wait_until(lambda: len(fake.calls_to("chat.postMessage", ok=False, channel=OWNER_DM)) >= 1, timeout=60)
        first.kill_outright()
    finally:
        first.stop()
    assert audited(database_url, review_id, "stage.reminders_snoozed") == 1
    assert texts_to(fake, OWNER_DM) == []  # nothing confirmed yet
    pending = queue_depth(database_url)
    assert pending["ready"] + pending["leased"] == 1, pending

    second = ServeProcess(fake, database_url, tmp_path, tmp_path, "second")
    try:
        second.wait_until_ready()
        slack = SlackSender(second.url, fake)
        # Slack delivers the same press again: it is already stored, so it adds nothing.
        retried = slack.interaction(press, retry=1)
        assert (retried.status_code, retried.content) == (200, b"")

        # The lead reassigns the stage; Slack's retry of that submission carries the same view id and hash. Slack
        # posts the lead's confirmation but answers 500: the next try finds it by its tag instead of re-posting.
        fake.fail_next("chat.postMessage", "internal_error", status=500, after_effect=True, channel=LEAD_DM)
        metadata = blocks.metadata(review=review_id, stage="Analyse", team=TEAM_ID)
        view = reassign_modal(review_id, "Analyse", metadata)
        assert view["callback_id"] == REASSIGN_CALLBACK
        for retry in (None, 1):
            submitted = slack.submit_view(
                LEAD,
                view,
                {"new_owner": user_select(NEW)},
                view_id="V0REASSIGN",
                view_hash="1900000003.hash",
                retry=retry,
            )
            assert (submitted.status_code, submitted.content) == (200, b""), submitted.text

        def settled() -> bool:
            depth = queue_depth(database_url)
            return depth["ready"] + depth["leased"] == 0 and bool(texts_to(fake, OWNER_DM))

        wait_until(settled, timeout=90)
        time.sleep(0.5)  # anything sent twice would arrive now
    finally:
        second.stop()
        fake.stop()
    [confirmation] = fake.calls_to("chat.postMessage", channel=OWNER_DM)
    assert "Snoozed: I'll remind you about Analyse" in str(confirmation.args["text"])
    tag = confirmation.args["metadata"]
    tag = json.loads(tag) if isinstance(tag, str) else tag
    assert tag["event_payload"]["part"] == 1
    assert audited(database_url, review_id, "stage.reminders_snoozed") == 1
    [told] = texts_to(fake, LEAD_DM)
    assert "Nia New" in told and len(fake.messages_in(LEAD_DM)) == 1
    assert second.log_events("slack_interaction_part_found"), second.log_tail()
    assert audited(database_url, review_id, "stage.owner_changed") == 1
    assert second.log_events("slack_interaction_duplicate"), second.log_tail()
