"""A reminder delivered to Teams by the production wiring, and its buttons pressed there, end to end.

Uses the Teams tests' own world (the real server on loopback, the fake Entra,
channel keys and Connector); the sweep is built by ``bot.scheduler.build_sweep``
exactly as the scheduler builds it.
"""

from __future__ import annotations

import time
import uuid
from datetime import date

from bot.scheduler import build_sweep
from storage.nudges import NudgeStore
from tests.nudges.helpers import World, at
from tests.teams import activities as A
from tests.teams.conftest import member, pki, teams  # noqa: F401 - the Teams world's fixtures, reused
from tests.teams.fakes import Member
from workflows.actions import NudgeActions

DUES = [date(2031, 3, 31), date(2031, 4, 30), date(2031, 5, 30), date(2031, 6, 30)]


def installed(world, someone: Member):  # type: ignore[no-untyped-def]
    world.post(A.install(world.connector.service_url, someone))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        person = world.people.find_by_teams_id(someone.aad_object_id)
        if person is not None and person.teams_conversation_ref:
            return person
        time.sleep(0.05)
    raise AssertionError("the install was not recorded")


def another(world) -> Member:  # type: ignore[no-untyped-def]
    aad = str(uuid.uuid4())
    someone = Member(
        id=f"29:{uuid.uuid4().hex}", aad_object_id=aad, name=f"Lead {aad[:6]}", email=f"lead.{aad[:6]}@council.gov.uk"
    )
    world.connector.add_member(someone)
    return someone


def press(world, someone: Member, data: dict) -> dict:  # type: ignore[type-arg]
    response = world.post(A.card_action(world.connector.service_url, someone, data))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reminder_card_reaches_teams_and_its_snooze_works(teams, member) -> None:  # noqa: F811
    owner = installed(teams, member)
    lead_member = another(teams)
    lead = installed(teams, lead_member)
    world = World(teams.services.database)
    review_id = world.review(f"Day centres {member.aad_object_id[:6]}", owner, lead, lead, DUES)
    before = len(teams.connector.posted)
    report = build_sweep(teams.services, clock=lambda: at("2031-03-24 10:00")).run()
    assert report.sent >= 1
    # The 1:1 chat the app was installed in, remembered from the install.
    chat = owner.teams_conversation_ref["conversation_id"]
    reminder = [p for p in teams.connector.posted[before:] if p.conversation_id == chat][-1]
    assert f"Analyse of #{review_id}" in reminder.all_text and "due in 5 working days" in reminder.all_text
    snooze = next(a["data"] for a in reminder.card["actions"] if a["data"].get("action_id") == NudgeActions.SNOOZE)

    answer = press(teams, member, snooze)
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    assert answer["value"].startswith("Snoozed: I'll remind you about Analyse")
    stage_id = world.reviews.get(review_id).stages[0].id
    assert NudgeStore(teams.services.database).snooze_of(stage_id, owner.id) is not None

    # The owner may not hand the stage on: they are told who can (the lead's card is tested with the adapter).
    refused = press(teams, member, {**snooze, "action_id": NudgeActions.REASSIGN})
    assert "Only the lead commissioner" in refused["value"]
    assert world.reviews.get(review_id).stages[0].owner.id == owner.id
