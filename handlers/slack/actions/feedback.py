"""Feedback buttons: "Give feedback" (a request's DM, a review's card, the App Home) and "Change my answer".

Both open the answer modal straight away, before any slow work; the rules are in ``workflows/feedback/``.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.slack import constants as C
from handlers.slack.context import SlackContext
from handlers.slack.feedback import open_response_form, service, upload_chart
from handlers.slack.interaction_work import InteractionRun, interaction_task, rendered
from handlers.slack.payloads import ButtonPress, queue_press
from workflows.feedback import parse_change_value
from workflows.replies import Reply, ReplyKind


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(C.FEEDBACK_GIVE))
    def give_feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        press = ButtonPress.from_body(body, action)
        open_response_form(slack, press.trigger_id, press.user_id, press.value, None)

    @app.action(C.action_pattern(C.FEEDBACK_CHANGE))
    def change_feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        press = ButtonPress.from_body(body, action)
        round_id, token = parse_change_value(press.value)
        open_response_form(slack, press.trigger_id, press.user_id, round_id, token)

    @app.action(C.action_pattern(C.FEEDBACK_SHOW_CHART))
    def show_chart(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        press = ButtonPress.from_body(body, action)
        queue_press(slack, "feedback_chart", press, where=press.user_id)
        ack()


@interaction_task("feedback_chart")
def send_chart(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """The summary chart in the officer's direct messages, if they may see it; the reason if not."""
    press = ButtonPress(**payload["press"])
    slack, user_id = run.slack, press.user_id
    review_id = int(press.value) if press.value.isdigit() else 0

    def refusal() -> str | None:
        if not review_id:
            return "That button is from an older message and no longer works."
        person = slack.slack_people.person_for(user_id)
        return service(slack).rules.summary_refusal(person.id if person else None, review_id)

    refused = run.step("refusal", refusal)
    if refused:
        run.direct_message(user_id, rendered([Reply(refused, ReplyKind.PROBLEM)]))
        return
    run.once("feedback_chart", lambda: upload_chart(slack, user_id, review_id))
