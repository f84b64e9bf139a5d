"""The nudge policy, with time moved by the tests: what is due for whom, and what is held back and why."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from tests.nudges.helpers import at, officer, recipients, summary
from workflows.nudge_types import NudgeKind, NudgePolicy, StageStatus
from workflows.nudges import plan_nudges
from workflows.working_days import WorkingCalendar, WorkingHours

# Analyse due Monday 30 November 2026: 5 working days before is Monday 23rd, 1 before is Friday 27th.
DUES = [date(2026, 11, 30), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]
POLICY = NudgePolicy()
OWNER, LEAD, HOLDER = officer(1, "Sam Owner"), officer(2, "Lee Lead"), officer(3, "Pat Holder")
PEOPLE = recipients(OWNER, LEAD, HOLDER)


def owner_nudges(plan):  # type: ignore[no-untyped-def]
    return [n for n in plan.nudges if n.kind is not NudgeKind.DIGEST and n.person_id == OWNER.id]


def plan_at(text: str, reviews=None, people=PEOPLE, policy=POLICY, **options):  # type: ignore[no-untyped-def]
    return plan_nudges(reviews or [summary(1, DUES)], people, at(text), policy, **options)


def test_owner_is_reminded_five_and_one_working_days_before() -> None:
    [five] = owner_nudges(plan_at("2026-11-23 10:00"))
    assert (five.kind, five.working_days, five.stage_name, five.period) == (
        NudgeKind.DUE_SOON,
        5,
        "Analyse",
        "2026-11-30/5wd-before",
    )
    # The same milestone all week: the ledger will see the same key and send nothing more.
    [still_five] = owner_nudges(plan_at("2026-11-25 15:00"))
    assert still_five.key == five.key and still_five.working_days == 3
    [one] = owner_nudges(plan_at("2026-11-27 09:00"))
    assert (one.kind, one.working_days, one.period) == (NudgeKind.DUE_SOON, 1, "2026-11-30/1wd-before")
    assert owner_nudges(plan_at("2026-11-20 10:00")) == []


def test_due_today_then_overdue_every_three_working_days() -> None:
    [today] = owner_nudges(plan_at("2026-11-30 11:00"))
    assert (today.kind, today.why) == (NudgeKind.DUE_TODAY, "due today")
    [first] = owner_nudges(plan_at("2026-12-01 09:30"))
    assert (first.kind, first.working_days, first.period) == (NudgeKind.OVERDUE, 1, "2026-11-30/overdue-1wd")
    assert owner_nudges(plan_at("2026-12-03 09:30"))[0].key == first.key
    [again] = owner_nudges(plan_at("2026-12-04 09:30"))
    assert (again.working_days, again.period) == (4, "2026-11-30/overdue-4wd")
    assert owner_nudges(plan_at("2026-12-09 09:30"))[0].period == "2026-11-30/overdue-7wd"


def test_lead_commissioner_is_told_after_five_overdue_working_days_once() -> None:
    assert not [n for n in plan_at("2026-12-04 10:00").nudges if n.kind is NudgeKind.ESCALATION]
    [escalation] = [n for n in plan_at("2026-12-07 10:00").nudges if n.kind is NudgeKind.ESCALATION]
    assert (escalation.person_id, escalation.working_days, escalation.owner_name) == (LEAD.id, 5, "Sam Owner")
    [later] = [n for n in plan_at("2026-12-15 10:00").nudges if n.kind is NudgeKind.ESCALATION]
    assert later.key == escalation.key  # told once, however long it stays overdue


def test_no_escalation_when_the_lead_owns_the_stage() -> None:
    plan = plan_at("2026-12-07 10:00", reviews=[summary(1, DUES, owner=2, lead=2)])
    assert [n.kind for n in plan.nudges if n.stage_id] == [NudgeKind.OVERDUE]


def test_weekends_and_evenings_hold_every_nudge() -> None:
    saturday = plan_at("2026-11-28 11:00")
    assert saturday.nudges == [] and saturday.held
    # A Saturday is named as a weekend, not as "outside working hours" (which reads as a wrong setting).
    assert all(item.reason.startswith("a weekend for them (Sat 11:00") for item in saturday.held)
    evening = plan_at("2026-11-27 17:30")
    assert evening.nudges == [] and all("outside working hours" in item.reason for item in evening.held)
    assert plan_at("2026-11-27 17:30").nudges == []
    assert plan_at("2026-11-27 08:59").nudges == []
    assert owner_nudges(plan_at("2026-11-27 17:29"))


def test_bank_holidays_hold_nudges_and_do_not_count_as_working_days() -> None:
    christmas = [date(2026, 12, 29), date(2027, 1, 29), date(2027, 2, 26), date(2027, 3, 26)]
    reviews = [summary(1, christmas)]
    # 25 Dec (Friday) and 28 Dec (Boxing Day, moved to Monday) are bank holidays in England.
    boxing_day = plan_at("2026-12-28 10:00", reviews)
    assert boxing_day.nudges == []
    assert boxing_day.held and all(item.reason.startswith("a bank holiday for them") for item in boxing_day.held)
    [one_before] = owner_nudges(plan_at("2026-12-24 10:00", reviews))
    assert (one_before.working_days, one_before.period) == (1, "2026-12-29/1wd-before")
    [five_before] = owner_nudges(plan_at("2026-12-21 10:00", reviews))
    # Five working days before skips Christmas, Boxing Day and the weekend: Friday 18 December.
    assert (five_before.period, five_before.working_days) == ("2026-12-29/5wd-before", 4)
    # St Andrew's Day (Monday 30 November) is a holiday in Scotland only.
    scotland = NudgePolicy(calendar=WorkingCalendar(region="SCT"))
    assert plan_at("2026-11-30 10:00", policy=scotland).nudges == []
    assert owner_nudges(plan_at("2026-11-30 10:00"))[0].kind is NudgeKind.DUE_TODAY


def test_a_person_in_another_timezone_is_nudged_in_their_working_hours() -> None:
    people = recipients(officer(1, "Sam Owner", "America/New_York"), LEAD, HOLDER)
    # 10:00 in London is 05:00 in New York: held, and the preview says whose hours.
    early = plan_at("2026-11-23 10:00", people=people)
    assert owner_nudges(early) == []
    [held] = [item for item in early.held if item.nudge.person_id == 1]
    assert "America/New_York" in held.reason
    # 09:00 in New York is 14:00 in London.
    assert not owner_nudges(plan_at("2026-11-23 13:59", people=people))
    assert owner_nudges(plan_nudges([summary(1, DUES)], people, at("2026-11-23 09:00", "America/New_York"), POLICY))
    # In Tokyo Monday starts while London is still on Sunday night.
    tokyo = recipients(officer(1, "Sam Owner", "Asia/Tokyo"), LEAD, HOLDER)
    [nudge] = owner_nudges(plan_nudges([summary(1, DUES)], tokyo, at("2026-11-23 09:30", "Asia/Tokyo"), POLICY))
    assert nudge.working_days == 5


def test_working_hours_follow_the_clocks_changing() -> None:
    calendar = WorkingCalendar()
    # British Summer Time ends on Sunday 25 October 2026: 08:30 UTC is 09:30 before, 08:30 after.
    assert calendar.is_working_time(at("2026-10-23 09:30"), "Europe/London")
    assert at("2026-10-23 09:30").hour == 8
    assert not calendar.is_working_time(at("2026-10-26 08:30"), "Europe/London")
    assert at("2026-10-26 08:30").hour == 8
    dues = [date(2026, 10, 30), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]

    before = plan_nudges([summary(1, dues)], PEOPLE, datetime(2026, 10, 23, 8, 30, tzinfo=UTC), POLICY)
    after = plan_nudges([summary(1, dues)], PEOPLE, datetime(2026, 10, 26, 8, 30, tzinfo=UTC), POLICY)
    assert owner_nudges(before) and not owner_nudges(after)
    assert owner_nudges(plan_nudges([summary(1, dues)], PEOPLE, datetime(2026, 10, 26, 9, 0, tzinfo=UTC), POLICY))
    # And in spring (29 March 2026): 08:30 UTC on Monday is 09:30 BST.
    assert calendar.is_working_time(datetime(2026, 3, 30, 8, 30, tzinfo=UTC), "Europe/London")
    assert not calendar.is_working_time(datetime(2026, 3, 27, 8, 30, tzinfo=UTC), "Europe/London")


def test_only_the_most_urgent_nudge_after_downtime_or_a_late_import() -> None:
    # First seen on Wednesday 2 December (imported late, or the bot was down): one nudge, the overdue one.
    nudges = owner_nudges(plan_at("2026-12-02 10:00"))
    assert [(n.kind, n.period) for n in nudges] == [(NudgeKind.OVERDUE, "2026-11-30/overdue-1wd")]
    assert "catching up" in nudges[0].why
    # A stage that becomes current three working days before it is due gets the five-day reminder once, saying 3.
    [late] = owner_nudges(plan_at("2026-11-25 10:00"))
    assert (late.period, late.working_days) == ("2026-11-30/5wd-before", 3)


def test_only_the_current_stage_is_nudged_and_finished_reviews_never() -> None:
    second_current = summary(1, DUES, done=1)
    [nudge] = owner_nudges(plan_at("2026-12-14 10:00", reviews=[second_current]))
    assert nudge.stage_name == "Plan" and nudge.period == "2026-12-18/5wd-before"
    assert plan_at("2026-12-01 10:00", reviews=[summary(1, DUES, status="closed")]).nudges == []
    assert owner_nudges(plan_at("2026-12-01 10:00", reviews=[summary(1, DUES, done=4)])) == []


def test_a_snooze_holds_the_reminder_then_brings_it_back_on_its_day() -> None:
    stage_id = summary(1, DUES).stages[0].id
    snoozes = {(stage_id, OWNER.id): date(2026, 12, 3)}
    held = plan_at("2026-12-02 10:00", snoozes=snoozes)
    assert owner_nudges(held) == []
    assert any(item.reason == "snoozed until Thu 3 December 2026" for item in held.held)
    [back] = owner_nudges(plan_at("2026-12-03 09:00", snoozes=snoozes))
    assert back.period == "2026-11-30/after-snooze-2026-12-03" and back.kind is NudgeKind.OVERDUE
    assert "snooze ended" in back.why
    [next_one] = owner_nudges(plan_at("2026-12-04 09:00", snoozes=snoozes))
    assert next_one.period == "2026-11-30/overdue-4wd"
    # The snooze is the owner's: the lead's escalation is not held by it.
    assert [n for n in plan_at("2026-12-07 10:00", snoozes=snoozes).nudges if n.kind is NudgeKind.ESCALATION]


def test_unreachable_people_and_people_with_no_chat_account_are_held() -> None:
    people = recipients(officer(1, reachable=False), officer(2, platforms=()), HOLDER)
    plan = plan_at("2026-12-07 10:00", people=people)
    reasons = {item.nudge.person_id: item.reason for item in plan.held}
    assert "unreachable" in reasons[1] and "no Slack or Teams" in reasons[2]
    assert [n.person_id for n in plan.nudges] == []


def test_weekly_digest_on_the_first_working_day_from_nine_once_a_week() -> None:
    reviews = [summary(1, DUES), summary(2, [date(2026, 11, 20), *DUES[1:]], title="Day centres")]
    options = {"digest_anchors": {HOLDER.id: 1}, "feedback_waiting": {HOLDER.id: 2}}
    assert not [n for n in plan_at("2026-11-23 08:59", reviews, **options).nudges if n.kind is NudgeKind.DIGEST]
    [digest] = [n for n in plan_at("2026-11-23 09:00", reviews, **options).nudges if n.kind is NudgeKind.DIGEST]
    assert (digest.person_id, digest.period, digest.feedback_waiting) == (HOLDER.id, "2026-W48", 2)
    statuses = {(line.review_id, name): status for line in digest.digest for name, status, _, _ in line.stages}
    assert statuses[(1, "Analyse")] is StageStatus.DUE_SOON
    assert statuses[(2, "Analyse")] is StageStatus.OVERDUE
    assert statuses[(1, "Plan")] is StageStatus.NOT_STARTED
    [tuesday] = [n for n in plan_at("2026-11-24 14:00", reviews, **options).nudges if n.kind is NudgeKind.DIGEST]
    assert tuesday.key == digest.key and "catching up" in tuesday.why
    # Monday 31 August 2026 is the summer bank holiday: the digest waits for Tuesday 09:00.
    assert not [n for n in plan_at("2026-09-01 08:30", reviews, **options).nudges if n.kind is NudgeKind.DIGEST]
    [september] = [n for n in plan_at("2026-09-01 09:00", reviews, **options).nudges if n.kind is NudgeKind.DIGEST]
    assert september.period == "2026-W36"


def test_working_hours_and_days_are_configurable() -> None:
    policy = NudgePolicy(
        days_before=(10, 2),
        overdue_every=1,
        escalate_after=2,
        calendar=WorkingCalendar(region="", hours=WorkingHours(time(8), time(16))),
    )
    [ten] = owner_nudges(plan_at("2026-11-16 08:00", policy=policy))
    assert ten.period == "2026-11-30/10wd-before"
    assert owner_nudges(plan_at("2026-12-02 10:00", policy=policy))[0].period == "2026-11-30/overdue-2wd"
    assert plan_at("2026-12-02 16:00", policy=policy).nudges == []
