"""Slack's assistant panel (Agents & AI Apps), through Bolt's ``Assistant`` middleware.

- ``assistant_thread_started``: suggested prompts drawn from the guidance itself
  (``workflows/assistant_prompts.py``), and a greeting with a button that opens the review wizard;
- ``assistant_thread_context_changed``: the officer moved to another channel with the panel open. The
  answers do not depend on the channel, so nothing is stored (Bolt's default would write the context
  into the thread's first message);
- a message in the panel thread: the status "Searching the guidance…", the thread titled from the first
  question, then the answer in the thread with Slack's own feedback buttons. The thread is one conversation,
  so follow-ups are read in context and the typed review set-up runs there too.

Bolt treats every reply in a direct-message thread as a panel message; a thread of an ordinary DM gets
the same answer (a refused status or title there is logged, not shown).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import Assistant
from slack_sdk.errors import SlackApiError

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.context import SlackContext, thread_key
from handlers.slack.interaction_work import REDACT, InteractionRun, event_key, interaction_task
from workflows.assistant_prompts import suggested_prompts
from workflows.replies import Button, Reply

log = structlog.get_logger(__name__)

SEARCHING = "Searching the guidance…"
PROMPTS_TITLE = "Try asking about:"
GREETING = (
    "Hello! Ask me anything about the council's commissioning guidance and I'll quote the passage I rely on. "
    "You can also set up a commissioning review here."
)
MAX_THREAD_TITLE = 100
RECENT_ANSWERS_FOR_PROMPTS = 500


def _quietly(what: str, call: Callable[[], Any]) -> None:
    """Status, title and prompts are niceties: Slack refusing one (an ordinary DM thread) must not stop the
    answer."""
    try:
        call()
    except SlackApiError as error:
        log.info("slack_assistant_call_refused", call=what, error=error.response.get("error"))


@interaction_task("assistant_thread_started")
def greet(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """Suggested prompts from the guidance, and a greeting with a button that opens the review wizard."""
    slack, channel, thread_ts = run.slack, str(payload["channel"]), str(payload["thread_ts"])

    def suggest() -> None:
        prompts = suggested_prompts(slack.services.knowledge.roles(), _recent_answers(slack))
        _quietly(
            "set_suggested_prompts",
            lambda: slack.client.assistant_threads_setSuggestedPrompts(
                channel_id=channel,
                thread_ts=thread_ts,
                title=PROMPTS_TITLE,
                prompts=[{"title": p.title, "message": p.message} for p in prompts],
            ),
        )

    run.effect(suggest)
    open_form = blocks.render_buttons([Button("New review", "", C.OPEN_REVIEW_FORM, "primary")])
    run.post(channel, [{"text": GREETING, "blocks": [blocks.section(GREETING), *open_form]}], thread_ts=thread_ts)


@interaction_task("assistant_message")
def answer_in_thread(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """The status, the thread's title from its first question, then the answer with Slack's feedback buttons."""
    slack, channel, thread_ts = run.slack, str(payload["channel"]), str(payload["thread_ts"])
    text, key = str(payload["text"]), str(payload["conversation_key"])
    client = slack.client
    run.effect(
        lambda: _quietly(
            "set_status",
            lambda: client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=SEARCHING),
        )
    )
    if run.step("first_question", lambda: slack.processed_events.first_time(C.TITLED_PLATFORM, key)):
        title = blocks.shorten(" ".join(text.split()), MAX_THREAD_TITLE)
        run.effect(
            lambda: _quietly(
                "set_title",
                lambda: client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts, title=title),
            )
        )

    def answer() -> list[Reply]:
        return slack.dialogue.handle(slack.user(str(payload["user"]), key), text)

    # Posting the answer in the thread clears the status.
    run.post(channel, run.replies("replies", answer, native_feedback=True, apologise=True), thread_ts=thread_ts)


def build_assistant(slack: SlackContext) -> Assistant:
    assistant = Assistant()

    @assistant.thread_started
    def start_thread(payload: dict[str, Any], body: dict[str, Any]) -> None:
        thread = payload["assistant_thread"]
        channel, thread_ts = thread["channel_id"], thread["thread_ts"]
        slack.queue_interaction(
            "assistant_thread_started",
            {"channel": channel, "thread_ts": thread_ts},
            key=event_key(body),
            team_id=body.get("team_id", ""),
            where=channel,
        )

    @assistant.thread_context_changed
    def context_changed(payload: dict[str, Any]) -> None:
        log.debug("slack_assistant_context_changed")

    @assistant.user_message
    def answer_message(payload: dict[str, Any], body: dict[str, Any]) -> None:
        team_id, channel, thread_ts = body.get("team_id", ""), payload["channel"], payload["thread_ts"]
        # Stored before the acknowledgement, keyed on the event id: a retried event adds nothing.
        slack.queue_interaction(
            "assistant_message",
            {
                "channel": channel,
                "thread_ts": thread_ts,
                "text": payload.get("text", ""),
                "user": payload["user"],
                "conversation_key": thread_key(team_id, channel, thread_ts),
            },
            key=event_key(body),
            team_id=team_id,
            where=channel,
            apology={"channel": channel, "thread_ts": thread_ts},
            # The stored answer carries its ref (on Slack's feedback buttons) beside the officer: kept until done.
            when_done=REDACT,
        )

    return assistant


def _recent_answers(slack: SlackContext) -> list[Any]:
    answer_log = slack.dialogue.answer_log
    if answer_log is None:
        return []
    return answer_log.entries(latest=RECENT_ANSWERS_FOR_PROMPTS)
