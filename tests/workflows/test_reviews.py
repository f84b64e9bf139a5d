from __future__ import annotations

import threading
from datetime import date, timedelta
from itertools import pairwise

import pytest

from storage.models import ReviewStatus
from tests.storage.review_helpers import Clock, Team, add_team, draft_for, make_service
from workflows.reviews import (
    Actor,
    DuplicateReviewError,
    NotAllowedError,
    ReviewError,
    ReviewNotFoundError,
    ReviewService,
    StageDraft,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def team(database) -> Team:
    return add_team(database)


@pytest.fixture
def service(database, clock) -> ReviewService:
    return make_service(database, clock)


def test_a_new_review_has_the_cycle_stages_with_owners_checklists_and_the_first_stage_started(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))

    assert [stage.name for stage in review.stages] == ["Analyse", "Plan", "Do", "Review"]
    assert [stage.owner.name for stage in review.stages] == ["Owen Jones", "Owen Jones", "Ruth Green", "Sam Patel"]
    assert review.stages[0].started_at == clock.now
    assert review.stages[1].started_at is None
    assert "Evidence of need" in review.stages[0].checklist[0].text
    assert not any(item.done for item in review.stages[0].checklist)
    assert review.current_stage.name == "Analyse"
    assert review.lead_commissioner.name == "Sam Patel"
    assert review.portfolio_holder.name == "Cllr Priya Shah"
    assert [s.person.name for s in review.stakeholders] == ["Voluntary Action Network"]
    assert review.outcomes == ("People stay well at home for longer", "Fewer emergency hospital admissions")
    assert review.status == "open"


def test_creating_a_review_is_in_the_audit_log(service: ReviewService, team: Team, clock: Clock) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))

    [entry] = service.history(review.id)
    assert entry.action == "review.created"
    assert entry.actor_person_id == team.sam.id
    assert entry.actor == f"Sam Patel (person {team.sam.id})"
    assert entry.at == clock.now
    assert entry.before is None
    assert entry.after["title"] == "Home care review"
    assert [stage["name"] for stage in entry.after["stages"]] == ["Analyse", "Plan", "Do", "Review"]


def test_a_review_with_the_same_title_for_the_same_service_asks_first(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    first = service.create_review(draft_for(team, clock.today), team.actor(team.sam))

    with pytest.raises(DuplicateReviewError) as refused:
        service.create_review(draft_for(team, clock.today, title="  home CARE review "), team.actor(team.sam))
    assert f"#{first.id}" in str(refused.value)
    assert "Create another anyway?" in str(refused.value)
    assert [r.id for r in service.find_duplicates("HOME CARE REVIEW", "adult social care")] == [first.id]

    second = service.create_review(draft_for(team, clock.today), team.actor(team.sam), allow_duplicate=True)
    assert second.id != first.id
    other_service = service.create_review(draft_for(team, clock.today, service="Housing"), team.actor(team.sam))
    assert other_service.service == "Housing"


def test_a_draft_with_problems_is_refused_with_every_problem_named_and_nothing_saved(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    draft = draft_for(team, clock.today)
    draft.title = "x" * 10_000
    draft.level = "galactic"
    draft.outcomes = ["   "]
    draft.stages = draft.stages[:3]
    draft.stakeholder_ids = [999_999]

    with pytest.raises(ReviewError) as refused:
        service.create_review(draft, team.actor(team.sam))

    message = str(refused.value)
    assert "please keep it under 300" in message
    assert "regional, strategic, operational, individual" in message
    assert "at least one outcome" in message
    assert "The stages must be Analyse, Plan, Do, Review" in message
    assert "Nobody with id 999999" in message
    assert service.list_all(include_closed=True) == []


def test_stage_due_dates_must_follow_the_cycle_order(service: ReviewService, team: Team, clock: Clock) -> None:
    draft = draft_for(team, clock.today)
    draft.stages[1] = StageDraft(name="Plan", owner_id=team.owen.id, due=clock.today + timedelta(days=10))

    with pytest.raises(ReviewError, match="Plan is due on .* before the stage ahead of it"):
        service.create_review(draft, team.actor(team.sam))


def test_only_the_stage_owner_or_lead_commissioner_can_mark_a_stage_done(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))

    with pytest.raises(NotAllowedError) as refused:
        service.advance_stage(review.id, team.actor(team.ruth), reason="done enough")
    assert str(refused.value) == (
        "Only the stage owner (Owen Jones) or the lead commissioner (Sam Patel) can mark Analyse as done."
    )
    assert service.get(review.id).current_stage.name == "Analyse"

    advanced = service.advance_stage(review.id, team.actor(team.sam), reason="evidence is in the JSNA")
    assert advanced.current_stage.name == "Plan"


def test_finishing_a_stage_with_open_checklist_items_needs_a_reason_which_is_recorded(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))
    service.set_checklist_item(review.id, "Analyse", 1, team.actor(team.owen))
    service.set_checklist_item(review.id, "analyse", "outcomes wanted", team.actor(team.owen))

    with pytest.raises(ReviewError, match="Analyse still has 2 checklist items open"):
        service.advance_stage(review.id, team.actor(team.owen))

    clock.advance(days=3)
    advanced = service.advance_stage(
        review.id, team.actor(team.owen), reason="Market work is covered by the regional review"
    )

    analyse = advanced.stage("Analyse")
    assert analyse.completed_at == clock.now
    assert analyse.completion_note == "Market work is covered by the regional review"
    assert advanced.stage("Plan").started_at == clock.now
    completed = [entry for entry in service.history(review.id) if entry.action == "stage.completed"]
    assert completed[0].after["reason"] == "Market work is covered by the regional review"
    assert len(completed[0].after["open_items"]) == 2


def test_a_stage_with_every_item_ticked_finishes_without_a_reason(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))
    for number in range(1, len(review.stages[0].checklist) + 1):
        service.set_checklist_item(review.id, "Analyse", number, team.actor(team.owen))

    advanced = service.advance_stage(review.id, team.actor(team.owen), stage_name="Analyse")

    assert advanced.stage("Analyse").is_complete
    assert advanced.stage("Analyse").completion_note is None


def test_a_stage_cannot_be_finished_out_of_order(service: ReviewService, team: Team, clock: Clock) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))

    with pytest.raises(ReviewError, match="Plan cannot be marked done before Analyse"):
        service.advance_stage(review.id, team.actor(team.sam), stage_name="Plan", reason="x")
    with pytest.raises(ReviewError, match='no stage called "Comission"; its stages are Analyse, Plan, Do, Review'):
        service.advance_stage(review.id, team.actor(team.sam), stage_name="Comission", reason="x")


def test_after_the_last_stage_the_review_can_be_closed_but_not_advanced(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))
    for _ in review.stages:
        service.advance_stage(review.id, team.actor(team.sam), reason="recorded elsewhere")

    with pytest.raises(ReviewError, match="already done; it can now be closed"):
        service.advance_stage(review.id, team.actor(team.sam), reason="again")
    assert "Every stage is done" in service.status_summary(review.id)

    closed = service.close_review(review.id, team.actor(team.priya), reason="Cycle complete")
    assert closed.status == "closed"
    with pytest.raises(ReviewError, match="is closed, so it cannot be changed"):
        service.set_checklist_item(review.id, "Review", 1, team.actor(team.sam))


def test_reassigning_a_stage_is_for_the_lead_commissioner_and_is_audited(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))

    with pytest.raises(
        NotAllowedError, match=r"Only the lead commissioner \(Sam Patel\) can give Plan to someone else"
    ):
        service.reassign_stage(review.id, "Plan", team.ruth.id, team.actor(team.owen))

    changed = service.reassign_stage(review.id, "Plan", team.ruth.id, team.actor(team.sam))

    assert changed.stage("Plan").owner.name == "Ruth Green"
    entry = service.history(review.id)[-1]
    assert entry.action == "stage.owner_changed"
    assert entry.before == {"stage": "Plan", "owner_id": team.owen.id, "owner": "Owen Jones"}
    assert entry.after == {"stage": "Plan", "owner_id": team.ruth.id, "owner": "Ruth Green"}
    assert changed.id in {r.id for r in service.list_mine(team.ruth.id)}


def test_moving_a_due_date_refuses_the_past_and_records_before_and_after(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))
    old_due = review.stage("Do").due_date

    with pytest.raises(ReviewError, match="is in the past"):
        service.move_due_date(review.id, "Do", clock.today - timedelta(days=1), team.actor(team.sam))

    new_due = old_due + timedelta(days=14)
    moved = service.move_due_date(review.id, "Do", new_due, team.actor(team.ruth), reason="Tender extended")

    assert moved.stage("Do").due_date == new_due
    entry = service.history(review.id)[-1]
    assert entry.before == {"stage": "Do", "due_date": old_due.isoformat()}
    assert entry.after == {"stage": "Do", "due_date": new_due.isoformat(), "reason": "Tender extended"}


def test_decommissioning_needs_a_reason_and_the_right_person(service: ReviewService, team: Team, clock: Clock) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))

    with pytest.raises(ReviewError, match="Please give a reason to decommission"):
        service.decommission_review(review.id, team.actor(team.sam), reason="  ")
    with pytest.raises(NotAllowedError, match="Only the lead commissioner .* or the portfolio holder"):
        service.decommission_review(review.id, team.actor(team.owen), reason="No longer needed")

    ended = service.decommission_review(review.id, team.actor(team.priya), reason="Service replaced by NHS provision")

    assert ended.status == ReviewStatus.DECOMMISSIONED.value
    assert ended.status_reason == "Service replaced by NHS provision"
    assert service.list_mine(team.sam.id) == []
    assert [r.id for r in service.list_mine(team.sam.id, include_closed=True)] == [review.id]


def test_every_change_is_in_the_audit_log_in_order(service: ReviewService, team: Team, clock: Clock) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))
    service.set_checklist_item(review.id, "Analyse", 1, team.actor(team.owen))
    service.set_checklist_item(review.id, "Analyse", 1, team.actor(team.owen), done=False)
    service.advance_stage(review.id, team.actor(team.owen), reason="Agreed at board")
    service.reassign_stage(review.id, "Do", team.owen.id, team.actor(team.sam))
    service.move_due_date(review.id, "Review", clock.today + timedelta(days=200), team.actor(team.sam))
    service.close_review(review.id, Actor.system("operator: commissioning-bot reviews close"))

    actions = [entry.action for entry in service.history(review.id)]
    assert actions == [
        "review.created",
        "stage.checklist_ticked",
        "stage.checklist_unticked",
        "stage.completed",
        "stage.owner_changed",
        "stage.due_date_moved",
        "review.closed",
    ]
    assert service.history(review.id)[-1].actor_person_id is None
    assert service.get(review.id).version == 7


def test_a_change_that_changes_nothing_is_not_logged(service: ReviewService, team: Team, clock: Clock) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))
    service.reassign_stage(review.id, "Plan", team.owen.id, team.actor(team.sam))

    assert [entry.action for entry in service.history(review.id)] == ["review.created"]
    assert service.get(review.id).version == review.version


def test_lists_find_my_reviews_portfolio_reviews_and_overdue_stages(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    owens = service.create_review(draft_for(team, clock.today, title="Home care"), team.actor(team.sam))
    ruths = service.create_review(
        draft_for(team, clock.today, title="Day centres", owner=team.ruth), team.actor(team.sam)
    )

    assert {r.id for r in service.list_mine(team.owen.id)} == {owens.id}
    assert {r.id for r in service.list_mine(team.ruth.id)} == {owens.id, ruths.id}  # Ruth owns Do in both
    assert {r.id for r in service.list_mine(team.sam.id)} == {owens.id, ruths.id}
    assert {r.id for r in service.list_for_portfolio_holder(team.priya.id)} == {owens.id, ruths.id}
    assert service.list_mine(team.council.id) == []
    assert service.list_overdue() == []

    clock.advance(days=31)
    service.advance_stage(ruths.id, team.actor(team.ruth), reason="done in the previous round")
    overdue = service.list_overdue()

    assert [(o.review_id, o.stage.name, o.days_overdue) for o in overdue] == [(owens.id, "Analyse", 1)]
    assert overdue[0].stage.owner.name == "Owen Jones"
    assert overdue[0].lead_commissioner.name == "Sam Patel"
    assert service.get(owens.id).overdue_stages(service.today())[0].name == "Analyse"


def test_unknown_reviews_are_reported_by_number(service: ReviewService, team: Team) -> None:
    with pytest.raises(ReviewNotFoundError, match="There is no review number 4242"):
        service.advance_stage(4242, team.actor(team.sam))


def test_concurrent_changes_to_one_review_never_lose_an_update(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    review = service.create_review(draft_for(team, clock.today), team.actor(team.sam))
    checklist_size = len(review.stages[0].checklist)
    workers = 12
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        barrier.wait()
        try:
            if n < checklist_size:
                service.set_checklist_item(review.id, "Analyse", n + 1, team.actor(team.owen))
            else:
                service.move_due_date(review.id, "Review", clock.today + timedelta(days=200 + n), team.actor(team.sam))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    final = service.get(review.id)
    assert all(item.done for item in final.stage("Analyse").checklist)
    history = service.history(review.id)
    moves = [entry for entry in history if entry.action == "stage.due_date_moved"]
    ticks = [entry for entry in history if entry.action == "stage.checklist_ticked"]
    assert len(ticks) == checklist_size
    assert len(moves) == workers - checklist_size
    # Each change saw the one before it: the due-date moves chain one after another.
    assert final.stage("Review").due_date == date.fromisoformat(moves[-1].after["due_date"])
    for earlier, later in pairwise(moves):
        assert later.before["due_date"] == earlier.after["due_date"]
    assert final.version == 1 + len(ticks) + len(moves)


def test_a_person_with_a_very_long_name_can_still_create_and_change_reviews(
    service: ReviewService, team: Team, clock: Clock
) -> None:
    long_named = service.people.upsert(name="Dr " + "Alexandra-" * 19 + "Smith", email="long@council.gov.uk")
    draft = draft_for(team, clock.today)
    draft.lead_commissioner_id = long_named.id

    review = service.create_review(draft, Actor.person(long_named.id, long_named.name))
    service.advance_stage(review.id, long_named.id, reason="Evidence held by the regional team")

    assert len(service.get(review.id).created_by) <= 200
    assert service.history(review.id)[-1].actor.endswith("...")
