"""The guided conversation that creates a commissioning review.

Questions, in order: the service under review, a title (one is suggested),
the outcomes wanted for residents, the commissioning level, the lead
commissioner, the portfolio holder, then an owner and a due date for each
stage of the council's cycle (names and usual durations come from the cycle
file, never from code), the stakeholders, and a summary to confirm.

The same :class:`~workflows.conversation.Flow` is used by the typed
conversation and by the one-screen wizard (a Slack modal, a Teams card).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol

import structlog

from storage.person_lifecycle import why_unreachable
from workflows.conversation import (
    ChoiceStep,
    Completion,
    ConfirmStep,
    DateStep,
    Flow,
    FlowError,
    ListStep,
    NeedsConfirmation,
    Option,
    PeopleListStep,
    PersonStep,
    Step,
    StepContext,
    TextStep,
)
from workflows.cycle import CycleConfig, StageDefinition
from workflows.dates import format_date
from workflows.people import PersonRef
from workflows.reviews import Actor, ReviewDraft, ReviewError, StageDraft

__all__ = ["REVIEW_FLOW", "build_review_flow", "stage_step_ids", "LEVELS"]

log = structlog.get_logger(__name__)

REVIEW_FLOW = "new_review"

LEVELS = [
    Option("regional", "Regional"),
    Option("strategic", "Strategic"),
    Option("operational", "Operational"),
    Option("individual", "Individual"),
]

_LEVEL_HELP = (
    "The level at which this commissioning happens. Regional: across several councils or a region. "
    "Strategic: council-wide priorities and budgets. Operational: a particular service or contract. "
    "Individual: arranging support for one person."
)


class ReviewCreator(Protocol):
    """What the flow needs from :class:`workflows.reviews.ReviewService`."""

    def find_duplicates(self, title: str, service: str) -> Sequence[Any]: ...

    def create_review(self, draft: ReviewDraft, actor: Actor | int, *, allow_duplicate: bool = False) -> Any: ...


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_") or "stage"


def stage_step_ids(cycle: CycleConfig) -> list[tuple[StageDefinition, str, str]]:
    """(stage, owner step id, due-date step id) for each stage, in order."""
    return [
        (stage, f"stage{index}_{_slug(stage.name)}_owner", f"stage{index}_{_slug(stage.name)}_due")
        for index, stage in enumerate(cycle.stages, start=1)
    ]


class RoleDirectory(Protocol):
    """The part of the people repository used to suggest the portfolio holder."""

    def holders_of(self, role: str, scope: str | None = None) -> Sequence[Any]: ...

    def roles_by_person(self, person_ids: Any) -> dict[int, list[Any]]: ...


def build_review_flow(cycle: CycleConfig, reviews: ReviewCreator, roles: RoleDirectory | None = None) -> Flow:
    """The review-creation flow for this council's cycle.

    ``roles`` (the people repository; by default the review service's own) lets
    the flow suggest the portfolio holder whose portfolio names the service.
    """
    stages = stage_step_ids(cycle)
    roles = roles if roles is not None else getattr(reviews, "people", None)

    def suggested_portfolio_holder(ctx: StepContext) -> PersonRef | None:
        service = str(ctx.answers.get("service") or "").casefold()
        if roles is None or not service:
            return None
        holders = list(roles.holders_of("portfolio holder"))
        if not holders:
            return None
        assignments = roles.roles_by_person([p.id for p in holders])
        matching = [
            person
            for person in holders
            if any(
                a.role == "portfolio holder" and a.scope and a.scope.casefold() in service
                for a in assignments.get(person.id, [])
            )
        ]
        return PersonRef.from_person(matching[0]) if len(matching) == 1 else None

    def previous_due(index: int, ctx: StepContext) -> date | None:
        for _, _, due_id in reversed(stages[:index]):
            value = ctx.answers.get(due_id)
            if isinstance(value, date):  # answers are loaded typed: a due date is a date
                return value
        return None

    def suggested_due(index: int) -> Any:
        def suggest(ctx: StepContext) -> date:
            start = previous_due(index, ctx) or ctx.today
            if start < ctx.today:
                start = ctx.today
            return cycle.add_duration(start, stages[index][0])

        return suggest

    def not_before(index: int) -> Any:
        return lambda ctx: previous_due(index, ctx)

    def suggested_title(ctx: StepContext) -> str | None:
        service = ctx.answers.get("service")
        return f"{service} review {ctx.today.year}" if service else None

    def unique_title(title: str, ctx: StepContext) -> NeedsConfirmation | None:
        service = ctx.answers.get("service")
        if not service:
            return None
        existing = reviews.find_duplicates(title, service)
        if not existing:
            return None
        first = existing[0]
        created = getattr(first, "created_at", None)
        opened = f", opened {format_date(created.date())}" if created else ""
        return NeedsConfirmation(
            title,
            f"There is already a review called “{first.title}” for {first.service} "
            f"(review #{first.id}{opened}, {first.status}, led by {first.lead_commissioner.name}). "
            "Reply yes to use this title anyway, or type a different title.",
        )

    steps: list[Step] = [
        TextStep(
            "service",
            "Which service is under review? (for example: Home care for older people)",
            title="Service",
            help="The service or area of spend this review covers, in the words your council uses for it.",
            max_chars=200,
            min_chars=3,
        ),
        TextStep(
            "title",
            "What should the review be called?",
            title="Title",
            help="A short name people will recognise in reminders and lists. Reply ok to use the suggested title.",
            required=False,
            max_chars=300,
            min_chars=3,
            default=suggested_title,
            check=unique_title,
        ),
        ListStep(
            "outcomes",
            "What outcomes do you want for residents? Separate them with semicolons (;).",
            title="Outcomes for residents",
            help=(
                "Outcomes describe the difference for residents, not the activity: for example "
                "“Older people stay independent at home for longer; Fewer emergency hospital admissions”."
            ),
            max_chars=4000,
        ),
        ChoiceStep("level", "At what level is this commissioning?", title="Level", help=_LEVEL_HELP, choices=LEVELS),
        PersonStep(
            "lead_commissioner",
            "Who is the lead commissioner? (an @mention, an email or a name; “me” for yourself)",
            title="Lead commissioner",
            help="The officer accountable for the review. They can advance any stage and are told when one slips.",
            default=lambda ctx: ctx.actor,
        ),
        PersonStep(
            "portfolio_holder",
            "Who is the portfolio holder? (the cabinet councillor for this service)",
            title="Portfolio holder",
            help=(
                "The cabinet member whose portfolio covers this service. "
                "They feed into the review and monitor the service."
            ),
            default=suggested_portfolio_holder,
        ),
    ]
    for index, (stage, owner_id, due_id) in enumerate(stages):
        about = f" {stage.description}" if stage.description else ""
        checklist = "; ".join(stage.checklist)
        steps.append(
            PersonStep(
                owner_id,
                f"Who owns the {stage.name} stage?",
                title=f"{stage.name}: owner",
                help=f"The person who will be reminded about the {stage.name} stage.{about}"
                + (f" Its checklist: {checklist}." if checklist else ""),
                default=lambda ctx: ctx.answers.get("lead_commissioner"),
            )
        )
        steps.append(
            DateStep(
                due_id,
                f"When is the {stage.name} stage due?",
                title=f"{stage.name}: due",
                help=(
                    f"The {stage.name} stage usually takes {stage.duration_label}. Any date format works: "
                    "31/03/2027, 2027-03-31, “next Friday”, “in 6 weeks”. Stage dates can't go backwards."
                ),
                default=suggested_due(index),
                not_before=not_before(index),
            )
        )
    steps.append(
        PeopleListStep(
            "stakeholders",
            "Who else should be involved? Name the stakeholders, separated by commas (or reply skip).",
            title="Stakeholders",
            help=(
                "Name people rather than teams: for example the colleague from finance, legal or procurement "
                "working on this, the provider's contact or a scrutiny member, each as an @mention, an email or "
                "a name from the people list."
            ),
            required=False,
        )
    )
    steps.append(
        ConfirmStep("confirm", "Shall I create this review? Reply yes to create it, or change to change an answer.")
    )

    def finish(answers: Mapping[str, Any], ctx: StepContext) -> Completion:
        lead: PersonRef = answers["lead_commissioner"]
        holder: PersonRef = answers["portfolio_holder"]
        title = answers.get("title") or suggested_title(ctx) or answers["service"]
        stakeholders: list[PersonRef] = answers.get("stakeholders") or []
        draft = ReviewDraft(
            title=title,
            service=answers["service"],
            outcomes=list(answers["outcomes"]),
            level=answers["level"],
            lead_commissioner_id=lead.id,
            portfolio_holder_id=holder.id,
            stages=[
                StageDraft(name=stage.name, owner_id=answers[owner_id].id, due=answers[due_id])
                for stage, owner_id, due_id in stages
            ],
            stakeholder_ids=[p.id for p in stakeholders],
        )
        actor = Actor.person(ctx.actor.id, ctx.actor.name) if ctx.actor else Actor.system("chat")
        try:
            # The title question already warned about a duplicate and the officer chose to keep it
            # (a changed service re-asks it), so the service need not ask again.
            review = reviews.create_review(draft, actor, allow_duplicate=True)
        except ReviewError as error:
            log.warning("review_creation_refused", reason=type(error).__name__)
            raise FlowError(f"I couldn't create the review: {error}") from error
        log.info("review_created_by_conversation", review_id=review.id, stages=len(stages))
        return Completion(_created_messages(review, title, answers, stages, roles), result=review)

    return Flow(
        name=REVIEW_FLOW,
        title="review",
        intro="Let's set up a new commissioning review. I'll ask one question at a time; "
        "reply help at any point for an explanation, back to go back, or cancel to stop.",
        steps=steps,
        finish=finish,
        summary_heading="Here is the review you've described:",
    )


def _created_messages(
    review: Any,
    title: str,
    answers: Mapping[str, Any],
    stages: list[tuple[StageDefinition, str, str]],
    people: RoleDirectory | None,
) -> list[str]:
    lead: PersonRef = answers["lead_commissioner"]
    holder: PersonRef = answers["portfolio_holder"]
    by_owner: dict[int, tuple[PersonRef, list[str]]] = {}
    for stage, owner_id, due_id in stages:
        owner: PersonRef = answers[owner_id]
        by_owner.setdefault(owner.id, (owner, []))[1].append(f"{stage.name} (due {format_date(answers[due_id])})")
    # Promise reminders only to people a message can reach; the others are named with what to do about it.
    get_many = getattr(people, "get_many", None)
    records: Mapping[int, Any] = get_many(by_owner) if callable(get_many) else {}
    lines = [f"Review #{review.id} created: “{title}” for {answers['service']}."]
    lines.append("Who will be reminded of what:")
    for owner, items in by_owner.values():
        record = records.get(owner.id)
        problem = why_unreachable(record) if record is not None else None
        if problem is None:
            lines.append(f"• {owner.name}: {', '.join(items)}, as each due date approaches and if it passes.")
        else:
            lines.append(
                f"• {owner.name}: {', '.join(items)}. I can't remind them yet ({problem}): they can be reminded "
                "once they message the assistant in Slack or Teams, or an administrator adds their Slack id."
            )
    lines.append(
        f"{lead.name} (lead commissioner) and {holder.name} (portfolio holder) will find it in their list of reviews."
    )
    stakeholders: list[PersonRef] = answers.get("stakeholders") or []
    if stakeholders:
        lines.append(f"• Stakeholders involved: {', '.join(p.name for p in stakeholders)}.")
    return ["\n".join(lines)]
