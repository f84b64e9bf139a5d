"""Feedback modals submitted: the request (who to ask) and an answer.

Field problems go back with ``response_action: errors`` (Slack shows them only from the acknowledgement
itself, so checking happens first: database reads, and one ``usergroups.list`` when a group is named).
A closed request or a second answer replaces the modal with a polite explanation. Everything slow (a
channel's members, messaging the stakeholders, the thank-you message) follows the acknowledgement.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.slack import blocks, feedback_modals
from handlers.slack import constants as C
from handlers.slack import feedback as slack_feedback
from handlers.slack.context import SlackContext
from handlers.slack.interaction_work import send_later
from handlers.slack.payloads import ViewSubmission


def register(app: App, slack: SlackContext) -> None:
    @app.view(C.FEEDBACK_REQUEST_CALLBACK)
    def submit_feedback_request(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = ViewSubmission.from_body(body, view)
        if slack.already_queued(submission.key):
            ack()  # the same submission again: its request is already stored
            return
        meta = feedback_modals.parse_metadata(submission.private_metadata)
        review_id = int(meta.get("review") or 0)
        values = feedback_modals.read_request(submission.state_values)
        errors, group_id = slack_feedback.check_request_form(slack, submission.user_id, review_id, values)
        if errors:
            ack(
                response_action="errors",
                errors={field: blocks.shorten(text, slack_feedback.MAX_ERROR_CHARS) for field, text in errors.items()},
            )
            return
        slack.queue_interaction(
            slack_feedback.ASK_STAKEHOLDERS_TASK,
            {"user": submission.user_id, "review": review_id, "values": values, "group": group_id},
            key=submission.key,
            team_id=submission.team_id,
            where=submission.user_id,
            apology={"user": submission.user_id},
        )
        ack()

    @app.view(C.FEEDBACK_RESPONSE_CALLBACK)
    def submit_feedback(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = ViewSubmission.from_body(body, view)
        if slack.already_queued(submission.key):
            ack()  # the same submission again: its answer was stored the first time
            return
        meta = feedback_modals.parse_metadata(submission.private_metadata)
        person = slack.known_person(submission.user_id)
        values = feedback_modals.read_response(submission.state_values)
        outcome = slack_feedback.service(slack).answers.submit(
            person, int(meta.get("round") or 0), str(meta.get("token") or ""), values
        )
        if outcome.errors:
            ack(
                response_action="errors",
                errors={
                    field: blocks.shorten(text, slack_feedback.MAX_ERROR_CHARS)
                    for field, text in outcome.errors.items()
                },
            )
            return
        if outcome.refusal:
            ack(response_action="update", view=feedback_modals.notice_modal(outcome.refusal))
            return
        done = outcome.done
        if done is not None:
            # The thank-you carries "Change my answer" (with the secret for an anonymous answer) into the
            # person's own direct messages, the one place it should live.
            send_later(slack, submission.key, submission.team_id, {"user": submission.user_id}, [done], private=True)
        ack()
