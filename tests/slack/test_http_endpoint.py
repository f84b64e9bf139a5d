"""The Slack app end to end over HTTP: signed requests in, Web API calls out to the fake Slack.

Every test talks to the real server (``bot.server``, uvicorn on loopback) and
asserts on the HTTP answer and on what the fake Slack received.

One module (over 400 lines) because its tests share one running server per
database (the module-scoped ``world`` fixture); splitting it would start that
server again for each part.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import httpx

from bot.app import Services
from bot.server import build_server
from handlers.slack import constants as C
from handlers.slack.blocks import render_reply_messages
from storage.answer_log import AnswerLog
from storage.events import ProcessedEvents
from storage.work_queue import work_queue_depth
from tests.identity_scan import assert_ratings_hold_no_identity
from tests.slack.conftest import ALICE, NEWBIE, OWEN, PRIYA
from tests.slack.fake_slack import BOT_USER_ID, FakeSlack, check_blocks, wait_until
from tests.slack.harness import (
    LoopbackServer,
    SlackSender,
    boxes_ticked,
    buttons_of,
    date_picked,
    option_picked,
    sign,
    text_input,
    text_of,
    user_select,
    users_select,
)
from workflows.actions import Actions
from workflows.replies import Button, Reply
from workflows.reviews import Actor, ReviewDraft, StageDraft


def people_ids(world) -> dict[str, int]:
    ids = {}
    for slack_id, name, email in [
        (ALICE, "Alice Adams", "alice.adams@council.gov.uk"),
        (OWEN, "Owen Jones", "owen.jones@council.gov.uk"),
        (PRIYA, "Cllr Priya Shah", "priya.shah@council.gov.uk"),
    ]:
        ids[slack_id] = world.people.upsert(name=name, email=email, slack_user_id=slack_id).id
    return ids


def make_review(world, title: str) -> int:
    ids = people_ids(world)
    today = world.services.reviews.today()
    draft = ReviewDraft(
        title=title,
        service="Adult social care",
        outcomes=["People stay well at home for longer"],
        level="operational",
        lead_commissioner_id=ids[ALICE],
        portfolio_holder_id=ids[PRIYA],
        stages=[
            StageDraft("Analyse", ids[OWEN], today + timedelta(days=30)),
            StageDraft("Plan", ids[OWEN], today + timedelta(days=60)),
            StageDraft("Do", ids[ALICE], today + timedelta(days=90)),
            StageDraft("Review", ids[ALICE], today + timedelta(days=120)),
        ],
    )
    return world.services.reviews.create_review(draft, Actor.system("test")).id


# --- the protocol itself --------------------------------------------------------------


def test_healthz_reports_ready_after_warm_up(world) -> None:
    body = httpx.get(f"{world.server.url}/healthz").json()
    assert body["status"] == "ready" and "/slack/events" in body["routes"]


def test_url_verification_returns_the_challenge(world) -> None:
    response = world.slack.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_bad_signature_and_stale_timestamp_get_401_and_do_nothing(world) -> None:
    before = len(world.fake.calls)
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0COUNCIL",
            "event_id": "EvForged01",
            "event": {
                "type": "app_mention",
                "user": ALICE,
                "text": f"<@{BOT_USER_ID}> hi",
                "ts": "1.1",
                "channel": "C0FORGED01",
            },
        }
    )
    forged = world.slack.post(body, "application/json", signature=sign(body, int(time.time()), "not-the-secret"))
    assert forged.status_code == 401
    stale_time = int(time.time()) - 6 * 60
    stale = world.slack.post(body, "application/json", timestamp=stale_time, signature=sign(body, stale_time))
    assert stale.status_code == 401
    time.sleep(0.5)
    assert [c.method for c in world.fake.calls[before:]] == []
    # The event was never recorded, so Slack's genuine delivery is still answered.
    assert world.services.database is not None

    assert ProcessedEvents(world.services.database).first_time("slack", "EvForged01") is True


# --- questions ---------------------------------------------------------------------------


def test_a_mention_is_answered_in_a_thread_with_the_passage_its_source_and_rating_buttons(world) -> None:
    response, ts = world.slack.mention(ALICE, "C0MENTION1", "Who takes strategic sourcing decisions?")
    assert response.status_code == 200
    [call] = world.fake.wait_for("chat.postMessage", channel="C0MENTION1")
    assert call.args["thread_ts"] == ts
    blocks = call.args["blocks"]
    assert "Cabinet" in text_of(blocks)
    assert any(b["type"] == "section" and b["text"]["text"].startswith("> ") for b in blocks)  # the quoted passage
    assert "02-roles-and-responsibilities.md" in text_of(blocks)  # its source
    labels = [e["text"]["text"] for e in buttons_of(blocks)]
    assert labels[:2] == ["Helpful", "Not helpful"]
    # The officer is now a person, with Slack's timezone.
    assert world.people.find_by_slack_id(ALICE).email == "alice.adams@council.gov.uk"


def test_a_follow_up_in_the_same_thread_is_read_in_context(world) -> None:
    _, ts = world.slack.mention(OWEN, "C0THREADS1", "start a review")
    [first] = world.fake.wait_for("chat.postMessage", channel="C0THREADS1")
    assert "(1/" in text_of(first.args["blocks"])
    world.slack.mention(OWEN, "C0THREADS1", "Home care", thread_ts=ts)
    calls = world.fake.wait_for("chat.postMessage", count=2, channel="C0THREADS1")
    assert calls[1].args["thread_ts"] == ts
    assert "(2/" in text_of(calls[1].args["blocks"])  # the thread's review conversation moved on
    # A reply in the thread needs no mention: the thread is one the app has answered in.
    world.slack.thread_reply(OWEN, "C0THREADS1", "ok", thread_ts=ts)
    calls = world.fake.wait_for("chat.postMessage", count=3, channel="C0THREADS1")
    assert calls[2].args["thread_ts"] == ts and "(3/" in text_of(calls[2].args["blocks"])
    # A reply in someone else's thread, where the app never answered, is not read at all.
    world.slack.thread_reply(OWEN, "C0THREADS1", "ok", thread_ts=world.slack.new_ts())
    # A new mention elsewhere in the channel is a new conversation: a question, not the next answer.
    _, fresh_ts = world.slack.mention(OWEN, "C0THREADS1", "Home care review 2026")
    calls = world.fake.wait_for("chat.postMessage", count=4, channel="C0THREADS1")
    assert calls[3].args["thread_ts"] == fresh_ts and "(4/" not in text_of(calls[3].args["blocks"])
    time.sleep(0.5)
    assert len(world.fake.calls_to("chat.postMessage", channel="C0THREADS1")) == 4
    assert world.people.find_by_slack_id(OWEN).timezone == "Europe/Dublin"


def test_a_direct_message_needs_no_mention_and_runs_the_review_conversation(world) -> None:
    world.slack.direct_message(NEWBIE, "start a review")
    [first] = world.fake.wait_for("chat.postMessage", channel="D0NEWBIE01")
    assert first.args.get("thread_ts") is None and "(1/" in text_of(first.args["blocks"])
    world.slack.direct_message(NEWBIE, "Libraries")
    calls = world.fake.wait_for("chat.postMessage", count=2, channel="D0NEWBIE01")
    assert "(2/" in text_of(calls[1].args["blocks"])
    assert world.people.find_by_slack_id(NEWBIE).timezone == "America/New_York"


def test_a_retried_event_is_answered_once_and_the_retry_gets_an_empty_200(world) -> None:
    ts = world.slack.new_ts()
    event = {
        "type": "app_mention",
        "user": ALICE,
        "text": f"<@{BOT_USER_ID}> what is the Analyse stage?",
        "ts": ts,
        "channel": "C0RETRIES1",
        "event_ts": ts,
    }
    first = world.slack.event(event, event_id="Ev0RETRY0001")
    retries = [world.slack.event(event, event_id="Ev0RETRY0001", retry=n) for n in (1, 2)]
    assert first.status_code == 200
    assert [(r.status_code, r.content) for r in retries] == [(200, b""), (200, b"")]
    world.fake.wait_for("chat.postMessage", channel="C0RETRIES1")
    time.sleep(1.0)
    assert len(world.fake.calls_to("chat.postMessage", channel="C0RETRIES1")) == 1


def test_bots_edits_and_unmentioned_channel_messages_are_not_answered(world) -> None:
    before = len(world.fake.calls)
    ts = world.slack.new_ts()
    ignored = [
        {
            "type": "message",
            "channel_type": "im",
            "channel": "D0ALICE001",
            "user": ALICE,
            "text": "hello",
            "ts": ts,
            "subtype": "message_changed",
        },
        {
            "type": "message",
            "channel_type": "im",
            "channel": "D0ALICE001",
            "bot_id": "B0OTHER001",
            "text": "beep",
            "ts": ts,
        },
        {"type": "message", "channel_type": "im", "channel": "D0ALICE001", "user": BOT_USER_ID, "text": "me", "ts": ts},
        {
            "type": "message",
            "channel_type": "channel",
            "channel": "C0CHATTER1",
            "user": ALICE,
            "text": "lunch?",
            "ts": ts,
        },
    ]
    for event in ignored:
        response = world.slack.event(event)
        assert response.status_code == 200
    time.sleep(0.8)
    assert [c.method for c in world.fake.calls[before:] if c.method == "chat.postMessage"] == []


def test_rating_an_answer_replaces_the_buttons_with_thanks(world) -> None:
    world.slack.mention(PRIYA, "C0RATINGS1", "What does a portfolio holder do?")
    [answer] = world.fake.wait_for("chat.postMessage", channel="C0RATINGS1")
    ts = next(ts for (channel, ts) in list(world.fake.messages) if channel == "C0RATINGS1")
    message = dict(world.fake.messages[("C0RATINGS1", ts)])
    helpful = next(e for e in buttons_of(message["blocks"]) if e["action_id"].startswith(Actions.HELPFUL))
    response, _ = world.slack.press(PRIYA, helpful, channel="C0RATINGS1", message=message)
    assert response.status_code == 200
    [update] = world.fake.wait_for("chat.update", channel="C0RATINGS1")
    assert "Thanks: marked as helpful." in text_of(update.args["blocks"])
    assert not any(e["action_id"].startswith(Actions.HELPFUL) for e in buttons_of(update.args["blocks"]))
    # Once delivered, the queued work keeps only its key: nothing in any table puts the officer beside the answer.
    wait_until(lambda: (d := work_queue_depth(world.services.database))["ready"] + d["leased"] == 0)
    [rated] = [
        e for e in AnswerLog(world.services.database).entries() if e.question == "What does a portfolio holder do?"
    ]
    identities = [PRIYA, "priya.shah@council.gov.uk", "Cllr Priya Shah"]
    assert assert_ratings_hold_no_identity(world.services.database, identities, [rated.ref]) > 0


def test_a_long_answer_is_split_within_slacks_limits(world) -> None:
    reply = Reply("word " * 40_000, buttons=[Button(f"Choice {n}", str(n)) for n in range(30)])
    messages = render_reply_messages(reply)
    assert len(messages) > 1

    for message in messages:
        check_blocks(message.blocks, 50)  # what the fake (and Slack) would refuse
    assert len(buttons_of(messages[-1].blocks)) == 30


# --- the slash command ----------------------------------------------------------------


def test_slash_help_and_unknown_sub_commands_answer_through_the_response_url(world) -> None:
    response, url, _ = world.slack.slash_command(ALICE, "help")
    assert response.status_code == 200 and response.content == b""
    [call] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert "`/commissioning new`" in text_of(call.args["blocks"])
    assert call.args["response_type"] == "ephemeral"
    _, url, _ = world.slack.slash_command(ALICE, "dance")
    [call] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert "I don't know the command “dance”" in text_of(call.args["blocks"])


def test_slash_ask_roles_and_whois(world) -> None:
    _, url, _ = world.slack.slash_command(ALICE, "ask who approves sourcing decisions?")
    [call] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert "Cabinet" in text_of(call.args["blocks"])
    _, url, _ = world.slack.slash_command(ALICE, "whois portfolio holder")
    [call] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert "Portfolio holder" in text_of(call.args["blocks"])


def test_slash_list_status_and_advance_with_a_reason_modal(world) -> None:
    review_id = make_review(world, "Home care review")
    _, url, _ = world.slack.slash_command(OWEN, "list")
    [listed] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert f"#{review_id} “Home care review”" in text_of(listed.args["blocks"])

    _, url, _ = world.slack.slash_command(OWEN, f"status {review_id}")
    [status] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    mark_done = next(e for e in buttons_of(status.args["blocks"]) if e["action_id"].startswith(C.REVIEW_ADVANCE))

    # Pressed on the ephemeral reply: the Analyse checklist is open, so a reason is asked for.
    press_url = world.fake.response_url()
    world.slack.press(OWEN, mark_done, channel="C0GENERAL1", ephemeral_response_url=press_url)
    [asked] = world.fake.wait_for("response_url", url=press_url.split(world.fake.url)[1])
    assert "still has checklist items open" in text_of(asked.args["blocks"])
    with_reason = buttons_of(asked.args["blocks"])[0]
    assert with_reason["action_id"].startswith(C.REVIEW_ADVANCE_WITH_REASON)

    opened_before = len(world.fake.calls_to("views.open"))
    world.slack.press(OWEN, with_reason, channel="C0GENERAL1", ephemeral_response_url=world.fake.response_url())
    opened = world.fake.wait_for("views.open", count=opened_before + 1)
    modal = opened[-1].args["view"]
    assert modal["callback_id"] == C.ADVANCE_REASON_CALLBACK

    blank = world.slack.submit_view(OWEN, modal, {C.ADVANCE_REASON_BLOCK: text_input("   ")})
    assert blank.json() == {
        "response_action": "errors",
        "errors": {C.ADVANCE_REASON_BLOCK: "Please say why the stage can be finished."},
    }
    assert world.services.reviews.get(review_id).current_stage.name == "Analyse"

    done = world.slack.submit_view(OWEN, modal, {C.ADVANCE_REASON_BLOCK: text_input("The region did the market work")})
    assert done.status_code == 200 and done.content == b""
    world.fake.wait_for("chat.postMessage", channel="D0OWEN0001")
    review = world.services.reviews.get(review_id)
    assert review.current_stage.name == "Plan"
    assert review.stages[0].completion_note == "The region did the market work"
    # The officer's Home tab was redrawn with the review on its new stage.
    home = world.fake.wait_for("views.publish", user_id=OWEN)[-1]
    assert f"#{review_id} Home care review" in text_of(home.args["view"]["blocks"])


# --- the review wizard ---------------------------------------------------------------


def wizard_values(title: str, service: str) -> dict:
    def due(days: int) -> str:
        return (date.today() + timedelta(days=days)).isoformat()

    return {
        "service": text_input(service),
        "title": text_input(title),
        "outcomes": text_input("People stay well at home for longer\nFewer emergency admissions"),
        "level": option_picked("operational"),
        "lead_commissioner": user_select(ALICE),
        "portfolio_holder": user_select(PRIYA),
        "stage1_analyse_owner": user_select(OWEN),
        "stage1_analyse_due": date_picked(due(40)),
        "stage2_plan_owner": user_select(OWEN),
        "stage2_plan_due": date_picked(due(80)),
        "stage3_do_owner": user_select(ALICE),
        "stage3_do_due": date_picked(due(140)),
        "stage4_review_owner": user_select(ALICE),
        "stage4_review_due": date_picked(due(180)),
        "stakeholders": users_select([NEWBIE]),
    }


def test_slash_new_opens_the_wizard_and_field_errors_come_back_in_the_modal(world) -> None:
    opened_before = len(world.fake.calls_to("views.open"))
    response, _, trigger = world.slack.slash_command(ALICE, "new")
    assert response.status_code == 200
    [*_, opened] = world.fake.wait_for("views.open", count=opened_before + 1)
    assert opened.args["trigger_id"] == trigger
    modal = opened.args["view"]
    assert modal["callback_id"] == C.REVIEW_WIZARD_CALLBACK
    block_ids = [b.get("block_id") for b in modal["blocks"]]
    assert {"service", "title", "lead_commissioner", "stage1_analyse_due"} <= set(block_ids)

    invalid = wizard_values("Meals review", "")
    invalid["stage1_analyse_due"] = date_picked((date.today() - timedelta(days=3)).isoformat())
    answer = world.slack.submit_view(ALICE, modal, invalid)
    assert answer.status_code == 200
    errors = answer.json()
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) >= {"service", "stage1_analyse_due"}
    assert all(len(text) <= 150 for text in errors["errors"].values())

    created = world.slack.submit_view(ALICE, modal, wizard_values("Meals on wheels review", "Meals on wheels"))
    assert created.status_code == 200 and created.content == b"", created.text
    [confirmation] = world.fake.wait_for("chat.postMessage", channel="D0ALICE001")
    assert "Meals on wheels review" in text_of(confirmation.args["blocks"])
    mine = world.services.reviews.list_mine(world.people.find_by_slack_id(ALICE).id)
    review = next(r for r in mine if r.title == "Meals on wheels review")
    assert [s.owner.name for s in review.stages] == ["Owen Jones", "Owen Jones", "Alice Adams", "Alice Adams"]
    # The stakeholder picked in Slack became a person too.
    assert world.people.find_by_slack_id(NEWBIE) is not None


def test_a_duplicate_title_is_confirmed_in_the_modal_before_creating(world) -> None:
    make_review(world, "Day centres review")
    _, _, trigger = world.slack.slash_command(ALICE, "new")
    modal = next(c for c in world.fake.wait_for("views.open") if c.args["trigger_id"] == trigger).args["view"]
    values = wizard_values("Day centres review", "Adult social care")
    warned = world.slack.submit_view(ALICE, modal, values)
    body = warned.json()
    assert body["response_action"] == "update"
    redrawn = body["view"]
    assert C.CONFIRM_WARNINGS_BLOCK in [b.get("block_id") for b in redrawn["blocks"]]

    FakeSlack._check_view(world.fake, redrawn)  # Slack would accept the redrawn modal
    title_block = next(b for b in redrawn["blocks"] if b.get("block_id") == "title")
    assert title_block["element"]["initial_value"] == "Day centres review"  # what they typed is kept

    confirmed = world.slack.submit_view(
        ALICE, redrawn, {**values, C.CONFIRM_WARNINGS_BLOCK: boxes_ticked(C.CONFIRM_WARNINGS_VALUE)}
    )
    assert confirmed.status_code == 200 and confirmed.content == b"", confirmed.text

    def created() -> int:
        return sum(1 for r in world.services.reviews.list_all() if r.title == "Day centres review")

    wait_until(lambda: created() == 2)


def test_an_expired_trigger_is_explained_instead_of_failing_silently(world) -> None:
    _, url, _ = world.slack.slash_command(NEWBIE, "new", trigger_id=world.fake.new_trigger_id(age_seconds=5))
    [call] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert "didn't let me open the form in time" in text_of(call.args["blocks"])
    assert world.fake.calls_to("views.open", ok=False)[-1].error == "expired_trigger_id"


# --- App Home -------------------------------------------------------------------------------


def test_app_home_shows_the_officers_reviews_with_buttons(world) -> None:
    review_id = make_review(world, "Carers support review")
    world.slack.home_opened(PRIYA)
    home = world.fake.wait_for("views.publish", user_id=PRIYA)[-1].args["view"]
    assert home["type"] == "home"
    shown = text_of(home["blocks"])
    assert f"#{review_id} Carers support review" in shown and "Analyse" in shown and "owner Owen Jones" in shown
    buttons = buttons_of(home["blocks"])
    assert any(b["action_id"].startswith(C.OPEN_REVIEW_FORM) for b in buttons)
    status = next(b for b in buttons if b["action_id"].startswith(C.REVIEW_STATUS) and b["value"] == str(review_id))
    # Priya holds the portfolio but owns no stage: no "Mark done" for her.
    assert not any(
        b["action_id"].startswith(C.REVIEW_ADVANCE) and b["value"].startswith(f"{review_id}:") for b in buttons
    )

    world.slack.press(PRIYA, status, home=True)
    [dm] = world.fake.wait_for("chat.postMessage", channel="D0PRIYA001")
    assert "Carers support review" in text_of(dm.args["blocks"])


# --- rate limits ------------------------------------------------------------------------------


def test_a_429_is_waited_out_and_the_answer_posted_once(world) -> None:
    world.fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=1)
    world.slack.mention(ALICE, "C0RATELIM1", "What should the Analyse stage cover?")
    [posted] = world.fake.wait_for("chat.postMessage", channel="C0RATELIM1")
    refused = [c for c in world.fake.calls_to("chat.postMessage", ok=False) if c.error == "ratelimited"]
    assert refused and posted.at - refused[-1].at >= 0.9
    time.sleep(0.5)
    assert len(world.fake.calls_to("chat.postMessage", channel="C0RATELIM1")) == 1


def test_a_retry_reaching_a_restarted_server_is_still_answered_once(world) -> None:
    ts = world.slack.new_ts()
    event = {
        "type": "app_mention",
        "user": PRIYA,
        "text": f"<@{BOT_USER_ID}> who scrutinises decisions?",
        "ts": ts,
        "channel": "C0RESTART1",
        "event_ts": ts,
    }
    world.slack.event(event, event_id="Ev0RESTART01")
    world.fake.wait_for("chat.postMessage", channel="C0RESTART1")
    # A second server process on the same database, as after a restart (no warm-up needed to spot a duplicate).
    restarted = LoopbackServer(
        build_server(Services(world.services.settings, knowledge=world.services.knowledge), warm_up=False)
    ).start()
    try:
        retry = SlackSender(restarted.url, world.fake).event(event, event_id="Ev0RESTART01", retry=1)
        assert (retry.status_code, retry.content) == (200, b"")
    finally:
        restarted.stop()
    time.sleep(0.5)
    assert len(world.fake.calls_to("chat.postMessage", channel="C0RESTART1")) == 1


def test_rating_an_answer_given_to_a_slash_command_thanks_the_officer_privately(world) -> None:
    _, url, _ = world.slack.slash_command(OWEN, "ask what does the Plan stage cover?")
    [answer] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    not_helpful = next(e for e in buttons_of(answer.args["blocks"]) if e["action_id"].startswith(Actions.NOT_HELPFUL))
    press_url = world.fake.response_url()
    world.slack.press(OWEN, not_helpful, channel="C0GENERAL1", ephemeral_response_url=press_url)
    [thanks] = world.fake.wait_for("response_url", url=press_url.split(world.fake.url)[1])
    assert thanks.args["text"].startswith("Thanks: marked as not helpful.")
    assert thanks.args["replace_original"] is False


def test_work_that_fails_after_the_ack_ends_in_an_apology_not_silence(world) -> None:
    broken = {
        "type": "button",
        "action_id": f"{C.REVIEW_ADVANCE}:0",
        "value": "not-a-review:Analyse",
        "text": {"type": "plain_text", "text": "Mark Analyse done"},
    }
    response, _ = world.slack.press(NEWBIE, broken, home=True)
    assert response.status_code == 200

    wait_until(
        lambda: any(
            "Sorry, something went wrong on my side" in text_of(c.args["blocks"])
            for c in world.fake.calls_to("chat.postMessage", channel="D0NEWBIE01")
        )
    )
