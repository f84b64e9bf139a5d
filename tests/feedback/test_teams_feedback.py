"""Feedback in Teams, end to end: real activities into ``/api/messages``, cards back in the invoke responses,
proactive messages through the fake Connector."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

from bot.logging import configure_logging
from storage.feedback import FeedbackRepository
from storage.notifications import NotificationLedger
from storage.work_queue import work_queue_depth
from tests.feedback.helpers import rows_mentioning
from tests.slack.fake_slack import wait_until
from tests.teams import activities as A
from tests.teams.fakes import Member, card_nodes
from tests.teams.helpers import chat_of, inputs
from workflows.reviews import Actor, ReviewDraft, StageDraft


def new_member(teams, name: str) -> Member:
    aad = str(uuid.uuid4())
    member = Member(
        id=f"29:{uuid.uuid4().hex}",
        aad_object_id=aad,
        name=name,
        email=f"{name.lower().replace(' ', '.')}.{aad[:4]}@council.gov.uk",
    )
    teams.connector.add_member(member)
    teams.post(A.install(teams.connector.service_url, member))
    teams.connector.wait_for(1, chat_of(member))  # the welcome
    return member


def texts(card: dict) -> str:
    return "\n".join(node.get("text", "") for node in card_nodes(card) if node.get("type") == "TextBlock")


@contextlib.contextmanager
def debug_log() -> Iterator[io.StringIO]:
    """The log as the product writes it at LOG_LEVEL=DEBUG (JSON lines), for the duration of the block."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    try:
        yield stream
    finally:
        configure_logging("WARNING", "text")
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def press(teams, member: Member, card: dict, title: str) -> dict:
    action = next(a for a in card["actions"] if a["title"] == title)
    response = teams.post(A.card_action(teams.connector.service_url, member, action["data"]))
    assert response.status_code == 200
    return response.json()


def submit(teams, member: Member, card: dict, values: dict) -> dict:
    data = {**card["actions"][0]["data"], **values}
    return teams.post(A.card_action(teams.connector.service_url, member, data)).json()


def test_asking_and_answering_feedback_through_cards(teams) -> None:
    url = teams.connector.service_url
    lead = new_member(teams, "Lena Teamslead")
    stakeholders = [new_member(teams, f"Sam Stake{i}") for i in range(1, 4)]
    outsider = new_member(teams, "Otto Outsider")
    lead_person = teams.people.find_by_teams_id(lead.aad_object_id)
    today = teams.services.reviews.today()
    draft = ReviewDraft(
        title=f"Day services {uuid.uuid4().hex[:4]}",
        service="Adult social care",
        outcomes=["People stay independent"],
        level="operational",
        lead_commissioner_id=lead_person.id,
        portfolio_holder_id=lead_person.id,
        stages=[
            StageDraft(n, lead_person.id, today + timedelta(days=30 * (i + 1)))
            for i, n in enumerate(("Analyse", "Plan", "Do", "Review"))
        ],
    )
    [review_id] = teams.services.reviews.create_reviews([draft], Actor.system("test"))

    # Someone who doesn't run the review is told who can ask.
    teams.post(A.message(url, outsider, f"feedback {review_id}"))
    refused = teams.connector.wait_for(2, chat_of(outsider))[1]
    assert "Only the lead commissioner (Lena Teamslead)" in refused.all_text

    # The lead types the command, presses "Choose stakeholders" and gets the request card.
    teams.post(A.message(url, lead, f"feedback {review_id}"))
    offer = teams.connector.wait_for(2, chat_of(lead))[1]
    form = press(teams, lead, offer.card, "Choose stakeholders")["value"]
    assert set(inputs(form)) == {"stakeholders", "question_set", "closes_on"}

    # Problems come back in the refreshed card, under their fields.
    past = (date.today() - timedelta(days=2)).isoformat()
    bad = submit(teams, lead, form, {"stakeholders": "Nobody Known", "question_set": "review", "closes_on": past})
    assert "I couldn't find “Nobody Known”" in texts(bad["value"]) and "after today" in texts(bad["value"])

    closes = (date.today() + timedelta(days=10)).isoformat()
    emails = "\n".join(m.email for m in stakeholders)
    done = submit(teams, lead, form, {"stakeholders": emails, "question_set": "review", "closes_on": closes})
    assert "I've asked 3 people for feedback" in texts(done["value"])
    invitations = [teams.connector.wait_for(2, chat_of(m))[1] for m in stakeholders]
    for invitation in invitations:
        assert "Lena Teamslead would like your feedback" in invitation.all_text
    # The work queue's worker records each invitation as sent just after posting it: read on once it has.
    ledger = NotificationLedger(teams.services.database)
    wait_until(lambda: [e.status for e in ledger.for_review(review_id)] == ["sent"] * 3)
    wait_until(lambda: sum(work_queue_depth(teams.services.database)[state] for state in ("ready", "leased")) == 0)
    [round_] = FeedbackRepository(teams.services.database).rounds_for_review(review_id, "requested")

    # The first stakeholder opens the form; a missing rating is shown under its field.
    answer_form = press(teams, stakeholders[0], invitations[0].card, "Give feedback")["value"]
    assert {"outcomes", "value_for_money", "satisfaction", "what_worked", "what_should_change", "anonymous"} <= set(
        inputs(answer_form)
    )
    assert inputs(answer_form)["outcomes"]["style"] == "expanded"
    missing = submit(
        teams,
        stakeholders[0],
        answer_form,
        {"outcomes": "", "value_for_money": "3", "satisfaction": "4", "anonymous": "no"},
    )
    assert "Please choose a rating from 1 (very poor) to 5 (very good)." in texts(missing["value"])
    thanks = submit(
        teams,
        stakeholders[0],
        missing["value"],
        {"outcomes": "4", "value_for_money": "3", "satisfaction": "4", "what_worked": "Kind staff", "anonymous": "no"},
    )
    assert "recorded with your name" in texts(thanks["value"])
    assert [a["title"] for a in thanks["value"]["actions"]] == ["Change my answer"]

    # The second answers anonymously; "Change my answer" reopens it, nothing else can.
    form2 = press(teams, stakeholders[1], invitations[1].card, "Give feedback")["value"]
    bea = teams.people.find_by_teams_id(stakeholders[1].aad_object_id)
    before = rows_mentioning(teams.services.database, bea)
    # Every log line of the anonymous round trip, at DEBUG, as the product writes them (msal, httpx and the
    # Agents SDK included): the answer and its thank-you card here, "Change my answer" reopening it below.
    with debug_log() as answering:
        anon = submit(
            teams,
            stakeholders[1],
            form2,
            {"outcomes": "2", "value_for_money": "2", "satisfaction": "3", "anonymous": "yes"},
        )
    assert "anonymously" in texts(anon["value"])
    after = rows_mentioning(teams.services.database, bea)
    assert "feedback_response" not in after
    for table, rows in after.items():
        added = [row for row in rows if row not in before.get(table, [])]
        if table == "feedback_request":  # the "has answered" marker
            assert [(r["person_id"], r["status"]) for r in added] == [(bea.id, "answered")]
        elif table == "processed_event":
            # The adapter's de-duplication of the button press (her chat's id, purged after a day): it holds
            # nothing of the answer, and the answer holds no time to match it against.
            assert len(added) == 1 and set(added[0]) == {"id", "platform", "event_id", "received_at"}
        else:
            assert added == [], (table, added)
    again = press(teams, stakeholders[1], invitations[1].card, "Give feedback")["value"]
    assert "already answered this request anonymously" in texts(again)
    with debug_log() as reopening:
        reopened = press(teams, stakeholders[1], anon["value"], "Change my answer")["value"]
    lines = answering.getvalue().splitlines() + reopening.getvalue().splitlines()
    assert any('"feedback_answered"' in line for line in lines)
    change = next(a for a in anon["value"]["actions"] if a["title"] == "Change my answer")
    secrets = [str(value) for value in change["data"].values() if isinstance(value, str) and len(value) >= 16]
    assert secrets, change["data"]
    needles = [stakeholders[1].id, stakeholders[1].aad_object_id, stakeholders[1].name, stakeholders[1].email]
    needles += [*secrets, *(hashlib.sha256(secret.encode()).hexdigest() for secret in secrets)]
    for needle in needles:
        leaks = [line[:300] for line in lines if needle in line]
        assert leaks == [], (needle, leaks)
    assert inputs(reopened)["outcomes"]["value"] == "2" and inputs(reopened)["anonymous"]["value"] == "yes"
    stored = FeedbackRepository(teams.services.database).responses(round_.id)
    assert len(stored) == 2 and sorted(r.person_id is None for r in stored) == [False, True]

    # A third answer, then the summary and its chart as an image inside the card.
    form3 = press(teams, stakeholders[2], invitations[2].card, "Give feedback")["value"]
    submit(
        teams, stakeholders[2], form3, {"outcomes": "3", "value_for_money": "5", "satisfaction": "5", "anonymous": "no"}
    )
    teams.post(A.message(url, lead, f"feedback summary {review_id}"))
    summary = teams.connector.wait_for(3, chat_of(lead))[2]
    assert "3 of 3 people answered (100%)" in summary.all_text and "average 3.0 out of 5" in summary.all_text
    chart = press(teams, lead, summary.card, "Show as a chart")["value"]
    [image] = [item for item in chart["body"] if item["type"] == "Image"]
    assert image["url"].startswith("data:image/png;base64,")
    png = base64.b64decode(image["url"].split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) <= 18_000


def test_anyone_can_give_feedback_from_the_status_card(teams) -> None:
    url = teams.connector.service_url
    lead = new_member(teams, "Lou Teamslead")
    visitor = new_member(teams, "Val Visitor")
    lead_person = teams.people.find_by_teams_id(lead.aad_object_id)
    today = teams.services.reviews.today()
    draft = ReviewDraft(
        title=f"Meals on wheels {uuid.uuid4().hex[:4]}",
        service="Adult social care",
        outcomes=["People eat well at home"],
        level="operational",
        lead_commissioner_id=lead_person.id,
        portfolio_holder_id=lead_person.id,
        stages=[
            StageDraft(n, lead_person.id, today + timedelta(days=30 * (i + 1)))
            for i, n in enumerate(("Analyse", "Plan", "Do", "Review"))
        ],
    )
    [review_id] = teams.services.reviews.create_reviews([draft], Actor.system("test"))
    teams.post(A.message(url, visitor, f"status {review_id}"))
    status = teams.connector.wait_for(2, chat_of(visitor))[1]
    form = press(teams, visitor, status.card, "Give feedback")["value"]
    thanks = submit(
        teams, visitor, form, {"outcomes": "5", "value_for_money": "4", "satisfaction": "5", "anonymous": "no"}
    )
    assert "Thank you" in texts(thanks["value"])
    [unsolicited] = FeedbackRepository(teams.services.database).rounds_for_review(review_id, "unsolicited")
    [stored] = FeedbackRepository(teams.services.database).responses(unsolicited.id)
    assert stored.ratings == {"outcomes": 5, "value_for_money": 4, "satisfaction": 5}
