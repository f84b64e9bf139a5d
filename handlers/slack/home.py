"""Drawing the App Home tab for one officer (on app_home_opened, and after they change a review)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.blocks import Block
from handlers.slack.context import SlackContext
from handlers.slack.feedback import home_feedback_blocks
from handlers.slack.insight_blocks import render_insights_blocks
from workflows.actions import stage_value
from workflows.dates import format_date


def publish_home(slack: SlackContext, user_id: str) -> None:
    person = slack.slack_people.person_for(user_id)
    reviews = slack.dialogue.reviews
    mine = reviews.list_mine(person.id) if person is not None and reviews is not None else []
    can_advance = [
        review.id
        for review in mine
        if person is not None
        and review.current_stage is not None
        and person.id in (review.current_stage.owner.id, review.lead_commissioner.id)
    ]
    today = reviews.today() if reviews is not None else None
    insights = slack.services.insights
    extra = list(home_feedback_blocks(slack, person.id if person else None))
    # Only the guidance's owners see where it falls short (GUIDANCE_OWNERS).
    if insights.is_owner(person.id if person else None, user_id):
        since = date.today() - timedelta(days=HOME_INSIGHTS_DAYS)
        extra += render_insights_blocks(insights.report(since), slack.command)
    view = render_home_view(
        person.name if person else None,
        mine,
        today,
        slack.command,
        can_advance,
        feedback_blocks=extra,
    )
    slack.client.views_publish(user_id=user_id, view=view)


# The Home tab is drawn each time it is opened: its insights cover recent weeks; the command covers any period.
HOME_INSIGHTS_DAYS = 90
HOME_REVIEW_LIMIT = 25  # four blocks each keeps the tab under 100 blocks


def render_home_view(
    person_name: str | None,
    reviews: Sequence[Any],
    today: date | None,
    command: str,
    can_advance: Iterable[int] = (),
    feedback_blocks: Sequence[Block] = (),
) -> dict[str, Any]:
    """The App Home tab: the officer's reviews, each with its stage, owner and due date, and buttons to act.
    ``feedback_blocks`` (handlers/slack/feedback.py) lists the feedback they have been asked for, and for the
    guidance's owners the insights (handlers/slack/insight_blocks.py)."""
    advance = set(can_advance)
    found: list[Block] = [
        {"type": "header", "text": blocks.plain("Your commissioning reviews", 150)},
        {
            "type": "actions",
            "block_id": "home_actions",
            "elements": [blocks.button("New review", f"{C.HOME_NEW_REVIEW}:0", "", "primary")],
        },
    ]
    if person_name is None:
        found.append(
            blocks.section(
                "I can't find you in the council's people list yet, so I can't show your reviews. "
                "Ask an administrator to add you."
            )
        )
    elif not reviews:
        found.append(
            blocks.section(f"You have no open reviews. Press *New review* or type `{blocks.escape(command)} new`.")
        )
    for review in list(reviews)[:HOME_REVIEW_LIMIT]:
        stage = review.current_stage
        if stage is None:
            where = "Every stage is done: ready to close."
        else:
            late = " :red_circle: *overdue*" if today is not None and stage.is_overdue(today) else ""
            where = (
                f"*{blocks.escape(stage.name)}* stage · owner {blocks.escape(stage.owner.name)} · "
                f"due {format_date(stage.due_date)}{late}"
            )
        found.append({"type": "divider"})
        found.append(
            blocks.section(f"*#{review.id} {blocks.escape(review.title)}*  ({blocks.escape(review.service)})\n{where}")
        )
        elements = [blocks.button("Status", f"{C.REVIEW_STATUS}:0", str(review.id))]
        if stage is not None and review.id in advance:
            elements.append(
                blocks.button(
                    f"Mark {stage.name} done",
                    f"{C.REVIEW_ADVANCE}:1",
                    stage_value(review.id, stage.name),
                    "primary",
                )
            )
        # Anyone may give feedback on a review (workflows/feedback/).
        elements.append(blocks.button("Give feedback", f"{C.FEEDBACK_GIVE}:2", f"review:{review.id}"))
        found.append({"type": "actions", "block_id": f"review:{review.id}", "elements": elements})
    if len(reviews) > HOME_REVIEW_LIMIT:
        found.append(
            blocks.context(f"And {len(reviews) - HOME_REVIEW_LIMIT} more: type `{blocks.escape(command)} list`.")
        )
    found.extend(feedback_blocks)
    found.append(blocks.context(f"Type `{blocks.escape(command)} help` for everything I can do."))
    return {"type": "home", "blocks": found[: blocks.MAX_VIEW_BLOCKS]}
