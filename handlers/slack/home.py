"""Drawing the App Home tab for one officer (on app_home_opened, and after they change a review)."""

from __future__ import annotations

from handlers.slack.blocks import render_home_view
from handlers.slack.context import SlackContext
from handlers.slack.feedback import home_feedback_blocks


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
    view = render_home_view(
        person.name if person else None,
        mine,
        today,
        slack.command,
        can_advance,
        feedback_blocks=home_feedback_blocks(slack, person.id if person else None),
    )
    slack.client.views_publish(user_id=user_id, view=view)
