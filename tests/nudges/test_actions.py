"""The buttons on a nudge: Snooze and Reassign are audited, checked, and change what the next sweep sends."""

from __future__ import annotations

from datetime import date

import pytest

from storage.nudges import NudgeStore
from tests.nudges.helpers import World, at
from workflows.actions import CommandActions, NudgeActions
from workflows.delivery import NudgeSweep
from workflows.dialogue import UserContext
from workflows.nudge_actions import NudgeButtons
from workflows.nudge_types import NudgeKind, NudgePolicy, Recipient
from workflows.people import DirectoryPeopleResolver, PersonRef
from workflows.replies import ReplyKind
from workflows.working_days import WorkingCalendar

DUES = [date(2026, 12, 1), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]


@pytest.fixture
def world(database):  # type: ignore[no-untyped-def]
    world = World(database)
    world.owner = world.person("Sam Owner", slack="U0OWNER001")
    world.lead = world.person("Lee Lead", slack="U0LEAD0001")
    world.holder = world.person("Pat Holder", slack="U0HOLD0001")
    world.other = world.person("Kim Other", slack="U0OTHER001")
    world.review_id = world.review("Library services", world.owner, world.lead, world.holder, DUES)
    return world


def user(world: World, person) -> UserContext:  # type: ignore[no-untyped-def]
    ref = PersonRef.from_person(person)
    return UserContext("slack", f"test:{person.id}", DirectoryPeopleResolver(world.people, me=ref), ref, person.name)


def buttons(world: World, moment: str) -> NudgeButtons:
    return NudgeButtons(world.reviews, WorkingCalendar(), clock=lambda: at(moment))


def owner_plan(world: World, moment: str):  # type: ignore[no-untyped-def]
    sweep = NudgeSweep(world.database, NudgePolicy())
    plan, _ = sweep.plan(at(moment))
    return plan


def test_snooze_holds_the_owners_reminders_for_two_working_days_and_is_audited(world) -> None:
    # Pressed on Friday 4 December: two working days later is Tuesday 8 December.
    [reply] = buttons(world, "2026-12-04 10:00").press(
        user(world, world.owner), NudgeActions.SNOOZE, f"{world.review_id}:Analyse"
    )
    assert reply.kind is ReplyKind.DONE
    assert "again on Tuesday 8 December" in reply.text
    stage = world.reviews.get(world.review_id).stages[0]
    assert NudgeStore(world.database).snooze_of(stage.id, world.owner.id) == date(2026, 12, 8)
    [entry] = [e for e in world.reviews.history(world.review_id) if e.action == "stage.reminders_snoozed"]
    assert entry.actor_person_id == world.owner.id and entry.after["snoozed_until"] == "2026-12-08"

    monday = owner_plan(world, "2026-12-07 10:00")
    assert not [n for n in monday.nudges if n.person_id == world.owner.id]
    assert [item.reason for item in monday.held if item.nudge.person_id == world.owner.id] == [
        "snoozed until Tue 8 December 2026"
    ]
    tuesday = owner_plan(world, "2026-12-08 09:00")
    [back] = [n for n in tuesday.nudges if n.person_id == world.owner.id]
    assert "snooze ended" in back.why
    # The lead's escalation (five working days overdue on Tuesday) is not the owner's to snooze.
    assert [n.kind for n in tuesday.nudges if n.person_id == world.lead.id] == [NudgeKind.ESCALATION]


def test_only_the_owner_or_the_lead_may_snooze(world) -> None:
    [reply] = buttons(world, "2026-12-04 10:00").press(
        user(world, world.other), NudgeActions.SNOOZE, f"{world.review_id}:Analyse"
    )
    assert reply.kind is ReplyKind.PROBLEM and "Only Sam Owner" in reply.text
    assert NudgeStore(world.database).snoozes() == {}


def test_reassign_by_the_lead_moves_the_reminders_to_the_new_owner(world) -> None:
    actions = buttons(world, "2026-12-02 10:00")
    [ask] = actions.press(user(world, world.lead), NudgeActions.REASSIGN, f"{world.review_id}:Analyse")
    assert ask.kind is ReplyKind.QUESTION and "Who should take on Analyse" in ask.text
    reply = actions.reassign(user(world, world.lead), world.review_id, "Analyse", "kim.other@council.gov.uk")
    assert reply.kind is ReplyKind.DONE and "now belongs to Kim Other" in reply.text
    assert world.reviews.get(world.review_id).stages[0].owner.id == world.other.id
    assert any(e.action == "stage.owner_changed" for e in world.reviews.history(world.review_id))
    plan = owner_plan(world, "2026-12-02 10:00")
    assert [n.person_id for n in plan.nudges if n.kind is NudgeKind.OVERDUE] == [world.other.id]


def test_an_owner_pressing_reassign_is_told_who_can(world) -> None:
    actions = buttons(world, "2026-12-02 10:00")
    [reply] = actions.press(user(world, world.owner), NudgeActions.REASSIGN, f"{world.review_id}:Analyse")
    assert "Only the lead commissioner, Lee Lead" in reply.text
    refused = actions.reassign(user(world, world.owner), world.review_id, "Analyse", "kim.other@council.gov.uk")
    assert refused.kind is ReplyKind.PROBLEM
    assert world.reviews.get(world.review_id).stages[0].owner.id == world.owner.id
    unknown = actions.reassign(user(world, world.lead), world.review_id, "Analyse", "nobody@nowhere.example")
    assert unknown.kind is ReplyKind.PROBLEM and "I don't know who" in unknown.text


def test_mark_done_and_open_review_are_the_command_buttons_every_adapter_handles() -> None:
    assert NudgeActions.MARK_DONE == CommandActions.REVIEW_ADVANCE
    assert NudgeActions.OPEN_REVIEW == CommandActions.REVIEW_STATUS
    assert set(NudgeActions.HANDLED_HERE) == {NudgeActions.SNOOZE, NudgeActions.REASSIGN}
    assert Recipient  # the policy's view of a person is what the sweep builds from Person rows
