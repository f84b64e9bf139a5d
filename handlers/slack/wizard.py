"""Opening the review wizard modal: shared by the slash command, the "Set up a review" buttons and the App Home.

Slack's trigger id lasts three seconds, so the modal is opened straight after
the acknowledgement and before anything slow: the form is built without asking
Slack about the officer (their person record is only needed on submission).
"""

from __future__ import annotations

from handlers.slack import blocks
from handlers.slack.context import SlackContext, command_key
from handlers.slack.people import slack_people_resolver
from workflows.dialogue import UserContext


def open_review_wizard(
    slack: SlackContext, trigger_id: str, team_id: str, user_id: str, channel_id: str | None
) -> bool:
    user = UserContext(
        platform="slack",
        conversation_key=command_key(team_id, user_id),
        people=slack_people_resolver(slack.slack_people, slack.people_repository, None),
    )
    form = slack.dialogue.review_form(user)
    # The officer setting up the review usually leads it; they can change it.
    view = blocks.render_review_modal(
        form, blocks.metadata(team=team_id, channel=channel_id, warnings=[]), values={"lead_commissioner": user_id}
    )
    return slack.open_view(trigger_id, view)
