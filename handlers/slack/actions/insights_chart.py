"""The guidance insights' "Show as a chart" button: the chart goes into the owner's direct messages with the app
(Slack's external upload, as the feedback summary chart does). Owners only, checked again at the press."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from handlers.slack import constants as C
from handlers.slack.context import SlackContext
from handlers.slack.interaction_work import InteractionRun, interaction_task, rendered
from handlers.slack.payloads import ButtonPress, queue_press
from workflows.actions import InsightsActions
from workflows.guidance_insights import NOT_AN_OWNER
from workflows.replies import Reply

log = structlog.get_logger(__name__)

CHART_FILENAME = "guidance-insights.png"


@interaction_task("insights_chart")
def send_insights_chart(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """The chart in the owner's direct messages (owners only, checked again here); a line saying why if not."""
    press = ButtonPress(**payload["press"])
    slack = run.slack
    insights = slack.services.insights
    person = slack.slack_people.person_for(press.user_id)
    if not insights.is_owner(person.id if person else None, press.user_id):
        run.direct_message(press.user_id, rendered([Reply(NOT_AN_OWNER)]))
        return
    # lazy: matplotlib takes a while to import, and most processes never draw a chart.
    from workflows.insight_charts import render_insights_chart

    since = date.fromisoformat(press.value) if press.value else None
    chart = render_insights_chart(insights.report(since))
    if chart is None:
        run.direct_message(press.user_id, rendered([Reply("No questions were asked in that period, so no chart.")]))
        return

    def upload() -> None:
        try:
            channel = slack.client.conversations_open(users=press.user_id)["channel"]["id"]
            slack.client.files_upload_v2(
                channel=channel,
                file=chart,
                filename=CHART_FILENAME,
                title="Guidance insights",
                alt_txt="Questions per week, and the questions the guidance answered least well",
            )
        except SlackApiError as error:
            log.warning("insights_chart_not_uploaded", error=error.response.get("error"))

    run.once("insights_chart", upload)


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(InsightsActions.SHOW_CHART))
    def show_chart(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        press = ButtonPress.from_body(body, action)
        queue_press(slack, "insights_chart", press, where=press.user_id)
        ack()
