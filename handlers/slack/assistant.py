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
from slack_bolt import Assistant, BoltContext
from slack_sdk.errors import SlackApiError

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.context import SlackContext, thread_key
from workflows.assistant_prompts import suggested_prompts
from workflows.replies import Button

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


def build_assistant(slack: SlackContext) -> Assistant:
    assistant = Assistant()

    @assistant.thread_started
    def start_thread(payload: dict[str, Any], set_suggested_prompts: Callable[..., Any], context: BoltContext) -> None:
        thread = payload["assistant_thread"]
        channel, thread_ts = thread["channel_id"], thread["thread_ts"]

        def greet() -> None:
            prompts = suggested_prompts(slack.services.knowledge.roles(), _recent_answers(slack))
            _quietly(
                "set_suggested_prompts",
                lambda: set_suggested_prompts(
                    prompts=[{"title": p.title, "message": p.message} for p in prompts], title=PROMPTS_TITLE
                ),
            )
            open_form = blocks.render_buttons([Button("New review", "", C.OPEN_REVIEW_FORM, "primary")])
            slack.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=GREETING, blocks=[blocks.section(GREETING), *open_form]
            )

        slack.later("assistant_thread_started", greet)

    @assistant.thread_context_changed
    def context_changed(payload: dict[str, Any]) -> None:
        log.debug("slack_assistant_context_changed")

    @assistant.user_message
    def answer_in_thread(
        payload: dict[str, Any],
        body: dict[str, Any],
        set_status: Callable[..., Any],
        set_title: Callable[..., Any],
    ) -> None:
        team_id, channel, thread_ts = body.get("team_id", ""), payload["channel"], payload["thread_ts"]
        text = payload.get("text", "")
        key = thread_key(team_id, channel, thread_ts)

        def answer() -> None:
            _quietly("set_status", lambda: set_status(SEARCHING))
            if slack.processed_events.first_time(C.TITLED_PLATFORM, key):
                _quietly("set_title", lambda: set_title(blocks.shorten(" ".join(text.split()), MAX_THREAD_TITLE)))
            user = slack.user(payload["user"], key)
            # Posting the answer in the thread clears the status.
            slack.post_or_apologise(
                channel, lambda: slack.dialogue.handle(user, text), thread_ts=thread_ts, native_feedback=True
            )

        slack.later("assistant_message", answer, tell_officer=lambda replies: slack.post(channel, replies, thread_ts))

    return assistant


def _recent_answers(slack: SlackContext) -> list[Any]:
    answer_log = slack.dialogue.answer_log
    if answer_log is None:
        return []
    return answer_log.entries(latest=RECENT_ANSWERS_FOR_PROMPTS)
