"""Requests, answers, edits, duplicates, anonymity, closing, summaries and CSV, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from handlers.slack.context import build_web_client
from handlers.slack.notify import SlackNotifier
from storage.models import FeedbackStatus
from tests.feedback.helpers import CLOSES, NOW, FeedbackWorld, changed_rows, ref, rows_mentioning, snapshot
from tests.nudges.helpers import message_workers
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from workflows.actions import FeedbackActions
from workflows.feedback import ANONYMOUS_FIELD, hash_token


def answer(ratings=(4, 3, 5), worked="Friendly staff", change="Longer opening hours", anonymous=False):
    values = {
        "outcomes": str(ratings[0]),
        "value_for_money": str(ratings[1]),
        "satisfaction": str(ratings[2]),
        "what_worked": worked,
        "what_should_change": change,
    }
    if anonymous:
        values[ANONYMOUS_FIELD] = "yes"
    return values


def ask(world: FeedbackWorld, people=None):
    outcome = world.ask(people)
    assert outcome.round is not None, outcome
    return outcome.round


def test_only_the_lead_or_a_stage_owner_may_ask(database) -> None:
    world = FeedbackWorld(database)
    assert world.feedback.rules.request_refusal(world.lead.id, world.review_id) is None
    assert world.feedback.rules.request_refusal(world.owner.id, world.review_id) is None
    refusal = world.feedback.rules.request_refusal(world.outsider.id, world.review_id)
    assert refusal and "Only the lead commissioner (Lena Lead)" in refusal
    refused = world.ask([world.stakeholders[0]], requester=world.outsider)
    assert refused.round is None and refused.refusal == refusal


def test_request_form_errors_name_the_field(database) -> None:
    world = FeedbackWorld(database)
    errors, _, _ = world.feedback.requests.check(question_set="nope", closes_on="2026-11-20", stakeholder_count=0)
    assert set(errors) == {"question_set", "closes_on", "stakeholders"}
    errors, chosen, day = world.feedback.requests.check(
        question_set="review", closes_on="2026-12-04", stakeholder_count=3
    )
    assert errors == {} and chosen.id == "review" and day == CLOSES


def test_an_answer_is_stored_edited_and_a_second_answer_is_an_edit_not_a_copy(database) -> None:
    world = FeedbackWorld(database)
    round_ = ask(world)
    alice = world.stakeholders[0]
    form = world.feedback.answers.form(ref(alice), f"round:{round_.id}")
    assert form.refusal is None and form.values == {} and form.token
    outcome = world.feedback.answers.submit(
        ref(alice), round_.id, form.token, {"outcomes": "", "what_worked": "x" * 3001}
    )
    assert set(outcome.errors) == {"outcomes", "value_for_money", "satisfaction", "what_worked"}
    outcome = world.feedback.answers.submit(ref(alice), round_.id, form.token, answer())
    assert outcome.done is not None and "recorded with your name" in outcome.done.text
    assert outcome.done.buttons[0].action_id == FeedbackActions.CHANGE
    [stored] = world.feedback.rules.repository.responses(round_.id)
    assert stored.person_id == alice.id and stored.ratings == {"outcomes": 4, "value_for_money": 3, "satisfaction": 5}
    # Opening the form again shows the answer; sending it changes it.
    again = world.feedback.answers.form(ref(alice), f"round:{round_.id}")
    assert again.values["outcomes"] == "4" and again.notice
    outcome = world.feedback.answers.submit(ref(alice), round_.id, again.token, answer(ratings=(2, 2, 2)))
    assert "changed" in outcome.done.text
    [stored] = world.feedback.rules.repository.responses(round_.id)
    assert stored.ratings["outcomes"] == 2
    assert world.feedback.rules.repository.request_status(round_.id, alice.id) == FeedbackStatus.ANSWERED.value


def test_an_anonymous_answer_leaves_no_identity_in_any_table(database) -> None:
    world = FeedbackWorld(database)
    round_ = ask(world)
    bea = world.stakeholders[1]
    form = world.feedback.answers.form(ref(bea), f"round:{round_.id}")
    before = snapshot(database)
    mentions_before = rows_mentioning(database, bea)
    outcome = world.feedback.answers.submit(ref(bea), round_.id, form.token, answer(anonymous=True))
    assert "anonymously" in outcome.done.text
    new = changed_rows(before, snapshot(database))
    # All answering wrote: the response, and her request row turned "answered" (no audit entry, no times).
    assert set(new) == {"feedback_response", "feedback_request"}
    assert len(new["feedback_response"]) == 1 and len(new["feedback_request"]) == 1
    mentions_after = rows_mentioning(database, bea)
    assert "feedback_response" not in mentions_after
    for table, rows in mentions_after.items():
        added = [row for row in rows if row not in mentions_before.get(table, [])]
        if table == "feedback_request":
            # The "has answered" marker: her request row, now answered, saying nothing about which response.
            assert [(r["person_id"], r["status"]) for r in added] == [(bea.id, "answered")]
        else:
            assert added == [], (table, added)
    [response] = world.feedback.rules.repository.responses(round_.id)
    assert response.person_id is None and response.answered_on is None and response.anonymous
    assert world.feedback.rules.repository.request_status(round_.id, bea.id) == FeedbackStatus.ANSWERED.value


def test_an_anonymous_answer_is_changed_only_with_its_secret(database) -> None:
    world = FeedbackWorld(database)
    round_ = ask(world)
    bea = world.stakeholders[1]
    form = world.feedback.answers.form(ref(bea), f"round:{round_.id}")
    world.feedback.answers.submit(ref(bea), round_.id, form.token, answer(anonymous=True))
    # The original "Give feedback" button cannot find an anonymous answer: it says how to change it.
    plain = world.feedback.answers.form(ref(bea), f"round:{round_.id}")
    assert plain.refusal and "Change my answer" in plain.refusal
    # A second answer without the secret is refused, not stored.
    refused = world.feedback.answers.submit(ref(bea), round_.id, "another-secret", answer(ratings=(1, 1, 1)))
    assert refused.refusal and "already answered" in refused.refusal
    assert len(world.feedback.rules.repository.responses(round_.id)) == 1
    # With the secret (from the thank-you message's button) the answer opens and changes.
    change = world.feedback.answers.form(ref(bea), str(round_.id), token=form.token)
    assert change.values["outcomes"] == "4" and change.values[ANONYMOUS_FIELD] == "yes"
    world.feedback.answers.submit(ref(bea), round_.id, form.token, answer(ratings=(1, 1, 1), anonymous=True))
    [response] = world.feedback.rules.repository.responses(round_.id)
    assert response.ratings["outcomes"] == 1 and response.person_id is None
    assert world.feedback.rules.repository.anonymous_response(round_.id, hash_token(form.token)) is not None


def test_a_closed_request_refuses_answers_politely(database) -> None:
    world = FeedbackWorld(database)
    round_ = ask(world)
    alice = world.stakeholders[0]
    form = world.feedback.answers.form(ref(alice), f"round:{round_.id}")
    world.clock.now = NOW + timedelta(days=12)  # Saturday 5 December: the day after closing
    closed = world.feedback.answers.form(ref(alice), f"round:{round_.id}")
    assert closed.refusal and closed.refusal.startswith("Thank you, but feedback") and "closed" in closed.refusal
    outcome = world.feedback.answers.submit(ref(alice), round_.id, form.token, answer())
    assert outcome.refusal and "closed" in outcome.refusal
    assert world.feedback.rules.repository.responses(round_.id) == []


def test_someone_not_asked_is_pointed_at_the_review_card(database) -> None:
    world = FeedbackWorld(database)
    round_ = ask(world)
    form = world.feedback.answers.form(ref(world.outsider), f"round:{round_.id}")
    assert form.refusal and "status card" in form.refusal


def test_unsolicited_feedback_from_anyone(database) -> None:
    world = FeedbackWorld(database)
    form = world.feedback.answers.form(ref(world.outsider), f"review:{world.review_id}")
    assert form.refusal is None
    world.feedback.answers.submit(ref(world.outsider), form.round_id, form.token, answer())
    again = world.feedback.answers.form(ref(world.outsider), f"review:{world.review_id}")
    assert again.round_id == form.round_id and again.values["outcomes"] == "4"


def test_summary_needs_three_answers_then_breaks_them_down(database) -> None:
    world = FeedbackWorld(database)
    round_ = ask(world)
    for person, ratings, anonymous in zip(world.stakeholders[:2], [(4, 3, 5), (2, 3, 4)], [False, True], strict=True):
        form = world.feedback.answers.form(ref(person), f"round:{round_.id}")
        world.feedback.answers.submit(ref(person), round_.id, form.token, answer(ratings=ratings, anonymous=anonymous))
    summary = world.feedback.summaries.summary(world.review_id)
    assert (summary.invited, summary.answered, summary.responses, summary.needed) == (5, 2, 2, 1)
    text = world.feedback.summaries.summary_text(summary)
    assert "2 of 5 people answered (40%)" in text and "1 more answer needed" in text
    assert "Friendly staff" not in text and summary.ratings == []
    form = world.feedback.answers.form(ref(world.stakeholders[2]), f"round:{round_.id}")
    world.feedback.answers.submit(
        ref(world.stakeholders[2]), round_.id, form.token, answer(ratings=(3, 3, 3), worked="Quick")
    )
    summary = world.feedback.summaries.summary(world.review_id)
    outcomes = summary.ratings[0]
    assert (outcomes.count, round(outcomes.mean, 2), outcomes.low, outcomes.high) == (3, 3.0, 2, 4)
    assert outcomes.distribution == {1: 0, 2: 1, 3: 1, 4: 1, 5: 0}
    assert round(outcomes.spread, 3) == 0.816
    text = world.feedback.summaries.summary_text(summary)
    assert "3 of 5 people answered (60%)" in text and "average 3.0 out of 5" in text and "> Quick" in text


def test_csv_export(database) -> None:
    world = FeedbackWorld(database)
    round_ = ask(world)
    for index, person in enumerate(world.stakeholders[:3]):
        form = world.feedback.answers.form(ref(person), f"round:{round_.id}")
        world.feedback.answers.submit(
            ref(person), round_.id, form.token, answer(ratings=(index + 1, 3, 5), anonymous=index == 1)
        )
    out = io.StringIO()
    assert world.feedback.summaries.export_csv(world.review_id, out) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["respondent"] for row in rows] == ["Stake Holder1", "Stake Holder3", "anonymous"]
    assert rows[0]["outcomes"] == "1" and rows[2]["answered_on"] == "" and rows[0]["answered_on"] == "2026-11-23"
    assert rows[1]["what_should_change"] == "Longer opening hours"


def test_reminders_wait_for_the_last_working_days_and_skip_people_who_answered(database) -> None:
    world = FeedbackWorld(database)
    fake = FakeSlack().start()
    try:
        for person in world.stakeholders:
            fake.add_user(person.slack_user_id, person.name, person.email)
        messenger = SlackNotifier(build_web_client(BOT_TOKEN, fake.api_url))

        def sent() -> list[tuple[str, str]]:
            return [(c.args["channel"], c.args["text"]) for c in fake.calls_to("chat.postMessage")]

        reminding = world.feedback_through([messenger])
        workers = message_workers(database, [messenger])

        def remind(now: datetime) -> int:
            queued = reminding.requests.send_reminders(now)
            workers.run_until_idle()  # the work queue's workers send what was queued
            return queued

        round_ = ask(world, world.stakeholders[:3])
        # Monday 23 Nov: the invitations go (they had not been sent), no reminders yet.
        assert remind(NOW) == 3
        assert len(sent()) == 3 and all("would like your feedback" in text for _, text in sent())
        form = world.feedback.answers.form(ref(world.stakeholders[0]), f"round:{round_.id}")
        world.feedback.answers.submit(ref(world.stakeholders[0]), round_.id, form.token, answer())
        # Wednesday 2 Dec is before the last two working days (Thu 3, Fri 4 Dec): nothing.
        assert remind(NOW + timedelta(days=9)) == 0
        # Thursday 3 Dec 10:00: the two who haven't answered, once; Saturday 5 Dec, after closing, nothing more.
        assert remind(NOW + timedelta(days=10)) == 2
        assert remind(NOW + timedelta(days=10, hours=2)) == 0
        reminded = sorted(channel for channel, text in sent() if text.startswith("A reminder"))
        assert reminded == ["D0STAKE002", "D0STAKE003"]
        assert reminding.requests.send_reminders(NOW + timedelta(days=12)) == 0
        assert (
            world.feedback.rules.repository.request_status(round_.id, world.stakeholders[1].id)
            == FeedbackStatus.EXPIRED.value
        )
    finally:
        fake.stop()


def test_a_summary_with_nothing_asked_says_where_stakeholders_can_be_asked(database) -> None:
    """The CLI and the terminal chat cannot ask for feedback, so the hint names the places that can."""
    world = FeedbackWorld(database)
    summary = world.feedback.summaries.summary(world.review_id)
    text = world.feedback.summaries.summary_text(summary)
    assert "Nobody has been asked for feedback" in text
    assert f"Slack (“/commissioning feedback {world.review_id}”)" in text and "in Teams" in text
    slack = world.feedback.summaries.summary_text(summary, ask_command=f"/consult feedback {world.review_id}")
    assert slack.endswith(f"Use “/consult feedback {world.review_id}” to ask stakeholders.")
