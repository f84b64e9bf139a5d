"""Stakeholder feedback on Slack: the request and answer modals, and the work behind them.

The rules live in ``workflows/feedback/`` and the modals are drawn and read back in
``handlers/slack/feedback_modals.py``; this module decides when to show them and talks to Slack:

- ``/commissioning feedback <review>`` opens the request modal at once (the
  trigger id lasts three seconds) and checks the officer may ask right after,
  replacing the modal with the reason when they may not;
- on submission the people, a channel's members (``conversations.members``) and
  a user group's members (``usergroups.users.list``) become stakeholders, and
  each gets a direct message with a "Give feedback" button;
- "Give feedback" and "Change my answer" open the answer modal; its field errors
  go back with ``response_action: errors``; a closed request or a second answer
  replaces the modal with a polite explanation;
- ``/commissioning feedback summary <review>`` answers with the text summary
  and uploads the chart into the officer's direct messages with the app
  (``files.getUploadURLExternal`` → the bytes → ``files.completeUploadExternal``),
  not into the channel: feedback is not for everyone in a channel to read.

Anonymity: the secret that lets an anonymous answer be changed travels only in
the modal's ``private_metadata`` and the thank-you message's button, and nothing
here logs who answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.answers import SORRY
from handlers.slack.context import SlackContext
from handlers.slack.feedback_modals import notice_modal, request_modal, response_modal
from handlers.slack.interaction_work import InteractionRun, interaction_task, rendered, send_later
from storage.feedback_records import RoundRecord
from workflows.command_parsing import Command
from workflows.dates import format_date
from workflows.feedback import (
    FeedbackError,
    FeedbackService,
    RequestFields,
    RequestForm,
)
from workflows.replies import Reply, ReplyKind

log = structlog.get_logger(__name__)

MAX_ERROR_CHARS = 150
CHART_FILENAME = "feedback-summary.png"
MEMBER_PAGE = 200
MAX_MEMBERS = 1000


def service(slack: SlackContext) -> FeedbackService:
    return slack.services.feedback


# --- asking for feedback --------------------------------------------------------------------------------


ASK_STAKEHOLDERS_TASK = "feedback_request"
COULD_NOT_OPEN = "Sorry, Slack didn't let me open the form in time. Please run the command again."


def handle_command(slack: SlackContext, command: Mapping[str, Any], parsed: Command) -> None:
    """``feedback <review>`` and ``feedback summary <review>``: the request modal opens here (the trigger id lasts
    three seconds); everything after the acknowledgement is stored first (``interaction_work.py``)."""
    feedback = service(slack)
    argument = parsed.argument.strip()
    team_id, user_id = str(command.get("team_id", "")), str(command["user_id"])
    key = f"command-reply:{command.get('trigger_id') or command.get('response_url')}"
    response_url = str(command.get("response_url") or "")
    to = {"response_url": response_url} if response_url else {"user": user_id}
    if argument.lower().startswith("summary"):
        summary: dict[str, Any] = {"user": user_id, "argument": argument[len("summary") :], "to": to}
        slack.queue_interaction("feedback_summary", summary, key=key, team_id=team_id, where=user_id, apology=to)
        return
    try:
        review_id = feedback.rules.find_review(argument)
    except FeedbackError as error:
        send_later(slack, key, team_id, to, [Reply(str(error), ReplyKind.PROBLEM)])
        return
    review = feedback.rules.reviews.get(review_id)
    view = request_modal(feedback, review_id, review.title, command.get("channel_id"))
    try:
        opened = slack.client.views_open(trigger_id=command["trigger_id"], view=view)
    except SlackApiError as error:
        log.warning("slack_view_not_opened", error=error.response.get("error"))
        send_later(slack, key, team_id, to, [Reply(COULD_NOT_OPEN, ReplyKind.PROBLEM)])
        return
    view_id = (opened.get("view") or {}).get("id")
    payload: dict[str, Any] = {"user": user_id, "review": review_id, "view_id": view_id, "to": to}
    slack.queue_interaction("feedback_request_check", payload, key=key, team_id=team_id, where=user_id)


@interaction_task("feedback_request_check")
def check_request_allowed(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """After the modal is open: asking Slack who the officer is may be slow. Someone who may not ask sees why
    in place of the form, rather than after filling it in."""
    slack, user_id, view_id = run.slack, str(payload["user"]), payload.get("view_id")
    person = slack.slack_people.person_for(user_id)
    refusal = service(slack).rules.request_refusal(person.id if person else None, int(payload["review"]))
    if not refusal or not view_id:
        return
    try:
        slack.client.views_update(view_id=view_id, view=notice_modal(refusal, "Ask for feedback"))
    except SlackApiError:  # closed already: say it where the command was typed instead
        run.send(payload["to"], rendered([Reply(refusal, ReplyKind.PROBLEM)]))


@interaction_task("feedback_summary")
def send_summary(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """The text summary where the command was typed, and the chart in the officer's direct messages."""
    slack, user_id, to = run.slack, str(payload["user"]), payload["to"]
    feedback = service(slack)

    def summary_text() -> dict[str, Any]:
        person = slack.slack_people.person_for(user_id)
        try:
            review_id = feedback.rules.find_review(str(payload["argument"]))
            refusal = feedback.rules.summary_refusal(person.id if person else None, review_id)
            if refusal:
                raise FeedbackError(refusal)
        except FeedbackError as error:
            return {"problem": str(error)}
        summary = feedback.summaries.summary(review_id)
        text = feedback.summaries.summary_text(summary, ask_command=f"{slack.command} feedback {review_id}")
        return {"text": text, "review": review_id, "chart": bool(summary.enough and summary.ratings)}

    found = run.step("summary", summary_text)
    if "problem" in found:
        run.send(to, rendered([Reply(found["problem"], ReplyKind.PROBLEM)]))
        return
    if not found["chart"]:
        run.send(to, rendered([Reply(found["text"], ReplyKind.INFO)]))
        return
    run.send(to, rendered([Reply(found["text"] + "\n\nI've put the chart in our direct messages.", ReplyKind.INFO)]))
    run.once("feedback_chart", lambda: upload_chart(slack, user_id, int(found["review"])))


def find_usergroup(slack: SlackContext, handle: str) -> str | None:
    wanted = handle.strip().lstrip("@").casefold()
    response = slack.client.usergroups_list()
    for group in response.get("usergroups") or []:
        if str(group.get("handle", "")).casefold() == wanted or str(group.get("name", "")).casefold() == wanted:
            return str(group["id"])
    return None


def channel_members(slack: SlackContext, channel_id: str) -> list[str]:
    members: list[str] = []
    cursor = ""
    while len(members) < MAX_MEMBERS:
        response = slack.client.conversations_members(channel=channel_id, limit=MEMBER_PAGE, cursor=cursor or None)
        members.extend(response.get("members") or [])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            break
    return members


def check_request_form(
    slack: SlackContext, user_id: str, review_id: int, values: Mapping[str, Any]
) -> tuple[dict[str, str], str | None]:
    """Per-field errors (shown in the modal, so checked before the acknowledgement) and the user group's id. A
    user group handle is looked up here, so a mistyped one is shown next to its field."""
    feedback = service(slack)
    errors: dict[str, str] = {}
    group_id = None
    if values[RequestFields.USERGROUP]:
        try:
            group_id = find_usergroup(slack, values[RequestFields.USERGROUP])
        except SlackApiError as error:
            log.warning("slack_usergroups_failed", error=error.response.get("error"))
        if group_id is None:
            errors[RequestFields.USERGROUP] = "I couldn't find that user group. Check its handle, e.g. @housing-team."
    chosen_count = len(values[RequestFields.PEOPLE]) + bool(values[RequestFields.CHANNEL]) + bool(group_id)
    field_errors, _, _ = feedback.requests.check(
        question_set=values[RequestFields.QUESTION_SET],
        closes_on=values[RequestFields.CLOSES_ON],
        stakeholder_count=chosen_count,
    )
    if RequestFields.PEOPLE in field_errors and RequestFields.USERGROUP in errors:
        field_errors.pop(RequestFields.PEOPLE)
    errors.update(field_errors)
    person = slack.people_repository.find_by_slack_id(user_id)
    refusal = feedback.rules.request_refusal(person.id if person else None, review_id)
    if refusal:
        errors[RequestFields.PEOPLE] = refusal
    return errors, group_id


@interaction_task(ASK_STAKEHOLDERS_TASK)
def ask_stakeholders(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """After the acknowledgement: expand the channel and the user group, ask (the core's one use case, stored
    once with the work), confirm in the officer's direct messages, then send the invitations."""
    slack, user_id = run.slack, str(payload["user"])
    review_id, values, group_id = int(payload["review"]), payload["values"], payload.get("group")
    feedback = service(slack)

    def ask() -> dict[str, Any]:
        slack_ids: list[str] = list(values[RequestFields.PEOPLE])
        problems: list[str] = []
        if values[RequestFields.CHANNEL]:
            try:
                slack_ids += channel_members(slack, values[RequestFields.CHANNEL])
            except SlackApiError as error:
                problems.append(
                    f"I couldn't read the channel's members (Slack said {error.response.get('error')}); "
                    "invite me to the channel and ask again to include them."
                )
        if group_id:
            try:
                slack_ids += slack.client.usergroups_users_list(usergroup=group_id).get("users") or []
            except SlackApiError as error:
                problems.append(f"I couldn't read the user group's members (Slack said {error.response.get('error')}).")
        # Everyone chosen becomes a person (asking Slack about anyone new); the core leaves out the officer asking.
        people = (slack.slack_people.person_for(slack_id) for slack_id in dict.fromkeys(slack_ids))
        form = RequestForm(
            person_ids=[person.id for person in people if person is not None],
            question_set=values[RequestFields.QUESTION_SET],
            closes_on=values[RequestFields.CLOSES_ON],
        )
        outcome = feedback.requests.ask(slack.slack_people.person_for(user_id), review_id, form)
        if outcome.round is None or outcome.confirmation is None:
            problem = outcome.refusal or next(iter(outcome.errors.values()), SORRY)
            return {"round": None, "messages": rendered([Reply(problem, ReplyKind.PROBLEM)])}
        confirmation = outcome.confirmation
        if problems:
            confirmation = Reply(confirmation.text + "\n" + "\n".join(problems), confirmation.kind)
        return {"round": outcome.round.id, "messages": rendered([confirmation])}

    asked = run.step("asked", ask)
    run.direct_message(user_id, asked["messages"])
    if asked["round"] is not None:
        # Each invitation goes once through the notification ledger, so sending again after a crash is safe.
        run.effect(lambda: feedback.requests.send_invitations(_round(feedback, int(asked["round"]))))


def _round(feedback: FeedbackService, round_id: int) -> RoundRecord:
    found = feedback.rules.repository.get_round(round_id)
    if found is None:
        raise LookupError(f"feedback round {round_id} is gone")
    return found


# --- answering ---------------------------------------------------------------------------------------------


def open_response_form(slack: SlackContext, trigger_id: str, user_id: str, value: str, token: str | None) -> bool:
    """Open the answer modal. Only the database is asked (the person was messaged by their Slack id, so they are
    known), keeping inside the trigger id's three seconds."""
    feedback = service(slack)
    person = slack.known_person(user_id)
    try:
        form = feedback.answers.form(person, value, token=token)
    except Exception as error:  # noqa: BLE001 - the officer sees a plain message rather than nothing
        log.error("feedback_form_failed", error=type(error).__name__)
        return slack.open_view(trigger_id, notice_modal("Sorry, something went wrong on my side. Please try again."))
    return slack.open_view(trigger_id, response_modal(form))


# --- summaries ------------------------------------------------------------------------------------------------


def upload_chart(slack: SlackContext, user_id: str, review_id: int) -> bool:
    """Upload the summary chart into the officer's DM with the app: Slack's external upload (get a URL, send the
    bytes there, complete it with the channel). False when there is nothing to draw or Slack refused."""
    # lazy: matplotlib takes a while to import, and most processes never draw a chart.
    from workflows.charts import render_summary_chart

    summary = service(slack).summaries.summary(review_id)
    chart = render_summary_chart(summary)
    if chart is None:
        return False
    try:
        channel = slack.client.conversations_open(users=user_id)["channel"]["id"]
        slack.client.files_upload_v2(
            channel=channel,
            file=chart,
            filename=CHART_FILENAME,
            title=f"Feedback on #{summary.review_id} {summary.review_title}"[:250],
            alt_txt=(
                "Ratings for #"
                + str(summary.review_id)
                + ": "
                + "; ".join(f"{s.text} average {s.mean:.1f}" for s in summary.ratings)
            )[:900],
            initial_comment=f"Feedback summary for #{summary.review_id} “{summary.review_title}”",
        )
    except SlackApiError as error:
        # The text summary already carries every figure; the chart is a convenience.
        log.warning("feedback_chart_not_uploaded", error=error.response.get("error"))
        return False
    log.info("feedback_chart_uploaded", review_id=review_id, bytes=len(chart))
    return True


def home_feedback_blocks(slack: SlackContext, person_id: int | None) -> list[dict[str, Any]]:
    """The App Home's "feedback you've been asked for": each open request with its Give feedback button."""
    if person_id is None:
        return []
    feedback = service(slack)
    waiting = feedback.rules.repository.waiting_for(person_id, feedback.rules.today())
    if not waiting:
        return [blocks.context("No feedback requests are waiting for you.")]
    found: list[dict[str, Any]] = [{"type": "divider"}, blocks.section("*Feedback you've been asked for*")]
    for round_record in waiting[:10]:
        review = feedback.rules.reviews.get(round_record.review_id)
        closes = format_date(round_record.closes_on) if round_record.closes_on else ""
        found.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": blocks.shorten(
                        f"#{review.id} {blocks.escape(review.title)}: "
                        f"{blocks.escape(round_record.requested_by)} asked; closes {closes}",
                        3000,
                    ),
                },
                "accessory": blocks.button(
                    "Give feedback", f"{C.FEEDBACK_GIVE}:{round_record.id}", f"round:{round_record.id}", "primary"
                ),
            }
        )
    return found
