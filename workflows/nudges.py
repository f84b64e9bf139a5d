"""The nudge policy: who should be reminded of what, at a given moment. Pure functions, no I/O.

:func:`plan_nudges` takes the open reviews, the people they name, the live
snoozes and the time, and returns the nudges due now and those held back (and
why). The scheduler's sweep (``workflows/delivery.py``) sends what it returns, worded by
``workflows/nudge_messages.py``;
``commissioning-bot nudges preview`` prints it.

The rules, each in the recipient's own timezone and working days:

- The **owner of a review's current stage** (the first stage not done; owners of
  later stages cannot act until it is) is reminded N working days before it is
  due (``NUDGE_DAYS_BEFORE``, default 5 and 1), on the due day, and once it is
  overdue on its first overdue working day and then every
  ``NUDGE_OVERDUE_EVERY_WORKING_DAYS``.
- The **lead commissioner** is told once the stage is
  ``ESCALATE_AFTER_WORKING_DAYS`` overdue (unless they own the stage themselves).
- Each **portfolio holder** gets a weekly digest on the first working day of the
  week from 09:00.
- Nobody is nudged at a weekend, on a bank holiday or outside working hours.

Each of those is a *milestone* with a date. At any moment a person is sent only
the latest milestone that has arrived, so after downtime, or for a stage
imported late, several missed reminders become one (the most urgent), and a
milestone missed while the bot was down is sent once when it is back. The
milestone's name and the due date form the ledger's ``period``, so a reminder
already sent is never sent again, and moving a due date starts afresh.

A snooze (``Snooze 2 working days``) holds one person's reminders about one
stage until a day, and that day becomes a milestone of its own, so the
reminder comes back then rather than waiting for the next scheduled one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from storage.review_snapshots import ReviewSummary
from workflows.nudge_types import (
    DIGEST_TIME,
    DigestLine,
    Held,
    Nudge,
    NudgeKind,
    NudgePlan,
    NudgePolicy,
    Recipient,
    StageStatus,
    format_day,
    plural,
    stage_status,
)

__all__ = ["plan_nudges"]

# When two milestones fall on one day, the more urgent one is sent.
_URGENCY = {NudgeKind.DUE_SOON: 0, NudgeKind.DUE_TODAY: 1, NudgeKind.OVERDUE: 2, NudgeKind.ESCALATION: 3}


@dataclass(frozen=True)
class _Milestone:
    day: date
    kind: NudgeKind
    label: str


def _owner_milestones(due: date, today: date, policy: NudgePolicy) -> list[_Milestone]:
    calendar = policy.calendar
    # A stage due at a weekend is "due" on the working day before it.
    due_day = calendar.previous_working_day(due)
    marks = [
        _Milestone(calendar.add_working_days(due_day, -days), NudgeKind.DUE_SOON, f"{days}wd-before")
        for days in policy.days_before
    ]
    marks.append(_Milestone(due_day, NudgeKind.DUE_TODAY, "due-day"))
    overdue = calendar.working_days_between(due, today)
    if overdue >= 1:
        every = policy.overdue_every
        latest = 1 + ((overdue - 1) // every) * every
        marks.append(_Milestone(calendar.add_working_days(due, latest), NudgeKind.OVERDUE, f"overdue-{latest}wd"))
    return marks


def _latest(marks: Iterable[_Milestone], today: date) -> _Milestone | None:
    arrived = [mark for mark in marks if mark.day <= today]
    if not arrived:
        return None
    return max(arrived, key=lambda mark: (mark.day, _URGENCY.get(mark.kind, 0)))


def _kind_on(due: date, today: date, policy: NudgePolicy) -> NudgeKind:
    due_day = policy.calendar.previous_working_day(due)
    if today > due and policy.calendar.working_days_between(due, today) >= 1:
        return NudgeKind.OVERDUE
    if today >= due_day:
        return NudgeKind.DUE_TODAY
    return NudgeKind.DUE_SOON


class _Planner:
    def __init__(
        self,
        people: Mapping[int, Recipient],
        now: datetime,
        policy: NudgePolicy,
        snoozes: Mapping[tuple[int, int], date],
    ) -> None:
        self.people = people
        self.now = now
        self.policy = policy
        self.snoozes = snoozes
        self.plan = NudgePlan(now=now)
        self._local: dict[str, tuple[date, bool]] = {}
        # Thousands of stages share a few hundred due dates: their milestones and statuses are worked out once.
        self._marks: dict[tuple[date, date], list[_Milestone]] = {}
        self._statuses: dict[tuple[date, bool, date, bool], StageStatus] = {}

    def local(self, person: Recipient) -> tuple[date, bool]:
        """(their local date, whether it is working time for them now), cached per timezone."""
        found = self._local.get(person.timezone)
        if found is None:
            calendar = self.policy.calendar
            found = (
                calendar.local_today(self.now, person.timezone),
                calendar.is_working_time(self.now, person.timezone),
            )
            self._local[person.timezone] = found
        return found

    def offer(self, nudge: Nudge, person: Recipient) -> None:
        if not person.reachable:
            self.plan.held.append(Held(nudge, "marked unreachable (left, or blocked the app)"))
        elif not person.platforms:
            self.plan.held.append(Held(nudge, "no Slack or Teams account known"))
        elif not self.local(person)[1]:
            self.plan.held.append(Held(nudge, self._not_working_reason(person)))
        else:
            self.plan.nudges.append(nudge)

    def _not_working_reason(self, person: Recipient) -> str:
        """Why now is not working time for ``person``: a weekend and a bank holiday are named as such, since
        "outside working hours" on a Saturday morning reads as a wrong setting."""
        calendar = self.policy.calendar
        local = calendar.local(self.now, person.timezone)
        when = f"{local:%a %H:%M} {person.timezone}"
        if local.weekday() >= 5:
            return f"a weekend for them ({when})"
        if local.date() in calendar.bank_holidays(local.year):
            return f"a bank holiday for them ({when})"
        return f"outside working hours for them ({when})"

    def stage(self, review: ReviewSummary, stage: Any, owner: Recipient, lead: Recipient | None) -> None:
        policy = self.policy
        today, _ = self.local(owner)
        marks = self._marks.get((stage.due_date, today))
        if marks is None:
            marks = self._marks[(stage.due_date, today)] = _owner_milestones(stage.due_date, today, policy)
        snoozed_until = self.snoozes.get((stage.id, owner.id))
        self._send_latest(review, stage, owner, marks, snoozed_until, today)

        if lead is None or lead.id == owner.id:
            return
        lead_today, _ = self.local(lead)
        overdue = policy.calendar.working_days_between(stage.due_date, lead_today)
        if overdue < policy.escalate_after:
            return
        escalation = _Milestone(
            policy.calendar.add_working_days(stage.due_date, policy.escalate_after),
            NudgeKind.ESCALATION,
            f"escalation-{policy.escalate_after}wd",
        )
        self._send_latest(
            review, stage, lead, [escalation], self.snoozes.get((stage.id, lead.id)), lead_today, owner_name=owner.name
        )

    def _send_latest(
        self,
        review: ReviewSummary,
        stage: Any,
        person: Recipient,
        marks: list[_Milestone],
        snoozed_until: date | None,
        today: date,
        owner_name: str | None = None,
    ) -> None:
        if snoozed_until is not None and snoozed_until <= today:
            # The snooze is over: remind them again from that day, as they asked.
            kind = (
                marks[0].kind
                if marks[0].kind is NudgeKind.ESCALATION
                else _kind_on(stage.due_date, snoozed_until, self.policy)
            )
            marks = [*marks, _Milestone(snoozed_until, kind, f"after-snooze-{snoozed_until.isoformat()}")]
        mark = _latest(marks, today)
        if mark is None:
            return
        nudge = self._stage_nudge(review, stage, person, mark, today, owner_name)
        if snoozed_until is not None and today < snoozed_until:
            self.plan.held.append(Held(nudge, f"snoozed until {format_day(snoozed_until)}"))
            return
        self.offer(nudge, person)

    def _stage_nudge(
        self,
        review: ReviewSummary,
        stage: Any,
        person: Recipient,
        mark: _Milestone,
        today: date,
        owner_name: str | None,
    ) -> Nudge:
        calendar = self.policy.calendar
        due = stage.due_date
        if mark.kind in (NudgeKind.OVERDUE, NudgeKind.ESCALATION) or due < today:
            count = max(0, calendar.working_days_between(due, today))
            why = f"{plural(count, 'working day')} overdue"
            if mark.kind is NudgeKind.ESCALATION:
                why += f" (escalated after {self.policy.escalate_after}); owner {owner_name}"
        elif mark.kind is NudgeKind.DUE_TODAY or today >= calendar.previous_working_day(due):
            count = 0
            why = "due today" if due == today else f"due {format_day(due)}, the last working day before it is today"
        else:
            count = calendar.working_days_between(today, calendar.previous_working_day(due))
            why = f"due in {plural(count, 'working day')}"
        if mark.label.startswith("after-snooze"):
            why += "; snooze ended"
        elif mark.day < today:
            why += f"; catching up (was due to be sent {format_day(mark.day)})"
        return Nudge(
            kind=mark.kind,
            person_id=person.id,
            person_name=person.name,
            review_id=review.id,
            review_title=review.title,
            period=f"{due.isoformat()}/{mark.label}"[:50],
            why=why,
            stage_id=stage.id,
            stage_name=stage.name,
            due_date=due,
            working_days=count,
            owner_name=owner_name or person.name,
        )

    def digest(self, holder: Recipient, reviews: Sequence[ReviewSummary], anchor: int, feedback_waiting: int) -> None:
        calendar = self.policy.calendar
        today, _ = self.local(holder)
        monday = today - timedelta(days=today.weekday())
        first_day = calendar.next_working_day(monday)
        if first_day > today or first_day - monday >= timedelta(days=7):
            return
        local_now = calendar.local(self.now, holder.timezone)
        if today == first_day and local_now.time().replace(tzinfo=None) < max(DIGEST_TIME, calendar.hours.start):
            return
        lines = []
        statuses = self._statuses
        for review in reviews:
            current = review.current_stage
            stages = []
            for stage in review.stages:
                key = (stage.due_date, stage.completed_at is not None, today, stage is current)
                status = statuses.get(key)
                if status is None:
                    status = statuses[key] = stage_status(key[0], key[1], today, self.policy, current=key[3])
                stages.append((stage.name, status, stage.due_date, stage.owner.name))
            lines.append(DigestLine(review.id, review.title, review.service, tuple(stages)))
        year, week, _ = today.isocalendar()
        overdue = sum(1 for line in lines for stage in line.stages if stage[1] is StageStatus.OVERDUE)
        why = f"week {week}: {plural(len(lines), 'review')}, {overdue} overdue"
        if today > first_day:
            why += f"; catching up (was due {format_day(first_day)})"
        nudge = Nudge(
            kind=NudgeKind.DIGEST,
            person_id=holder.id,
            person_name=holder.name,
            review_id=anchor,
            review_title=f"{plural(len(lines), 'review')} in your portfolio",
            period=f"{year}-W{week:02d}",
            why=why,
            digest=tuple(lines),
            feedback_waiting=feedback_waiting,
        )
        self.offer(nudge, holder)


def plan_nudges(
    reviews: Sequence[ReviewSummary],
    people: Mapping[int, Recipient],
    now: datetime,
    policy: NudgePolicy,
    *,
    snoozes: Mapping[tuple[int, int], date] | None = None,
    digest_anchors: Mapping[int, int] | None = None,
    feedback_waiting: Mapping[int, int] | None = None,
) -> NudgePlan:
    """Everything due at ``now`` (aware UTC) for these open reviews: what to send, and what is held and why.

    ``people`` maps every person the reviews name to a :class:`Recipient`;
    ``snoozes`` maps (stage id, person id) to the day reminders resume;
    ``digest_anchors`` maps a portfolio holder to the review their digest's ledger row
    hangs on (no anchor, no digest); ``feedback_waiting`` counts each person's open
    feedback requests, for the digest.
    """
    if now.tzinfo is None:
        raise ValueError("plan_nudges needs an aware time (UTC)")
    planner = _Planner(people, now, policy, snoozes or {})
    portfolios: dict[int, list[ReviewSummary]] = {}
    for review in reviews:
        if not review.is_open:
            continue
        portfolios.setdefault(review.portfolio_holder.id, []).append(review)
        stage = review.current_stage
        if stage is None:
            continue
        owner = people.get(stage.owner.id)
        if owner is None:
            continue
        planner.stage(review, stage, owner, people.get(review.lead_commissioner.id))
    anchors = digest_anchors or {}
    waiting = feedback_waiting or {}
    for holder_id, held_reviews in portfolios.items():
        holder = people.get(holder_id)
        anchor = anchors.get(holder_id)
        if holder is None or anchor is None:
            continue
        planner.digest(holder, sorted(held_reviews, key=lambda r: r.id), anchor, waiting.get(holder_id, 0))
    return planner.plan


# --- what the message says ---------------------------------------------------------------------
