"""Answers to Slack messages and mentions, through the durable work queue: stored before Slack is
acknowledged, posted exactly once by whichever process is alive.

The listener (``events/app_mention.py``, ``events/direct_message.py``) only calls :func:`queue_answer`:
one insert keyed on Slack's event id, so a retried event adds nothing and Slack gets its 200 once the
work is safe. :class:`SlackAnswerWork` then, in a worker:

1. works the answer out once and stores the rendered messages with the work (a retry posts what was
   worked out, and never asks the chat core twice);
2. posts each message, tagged with Slack message metadata naming the work and the part, at the channel's
   pace (about one a second): a channel that must wait puts the work back until its turn, and the worker
   moves on to other channels;
3. on a 429 puts the work (and the rest of that channel) back until ``Retry-After``;
4. on an ambiguous failure (a 5xx, a timeout, a dropped connection: Slack may have posted it) puts the
   work back, and the next attempt first looks in the thread or channel for messages carrying this
   work's tag, so the officer gets the answer once rather than twice or an apology.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.slack import blocks
from handlers.slack.constants import PLATFORM
from storage.base import utc_now
from storage.work_queue import ClaimedWork, WorkQueue
from workflows.replies import INTERRUPTED, Reply, ReplyKind
from workflows.work_runner import KEEP_ONLY_THE_KEY, Done, GiveUp, Later, Outcome, retry_delay

__all__ = ["ANSWER_KIND", "METADATA_EVENT_TYPE", "SlackAnswerWork", "delivery_client", "queue_answer"]

log = structlog.get_logger(__name__)

ANSWER_KIND = "slack.answer"
# The event type of the metadata every answer carries; Slack keeps it with the message.
METADATA_EVENT_TYPE = "commissioning_answer"
# Slack errors that say the post happened or cannot happen by trying again; anything else 4xx is final.
RETRYABLE_ERRORS = {"ratelimited", "service_unavailable", "fatal_error", "internal_error", "request_timeout"}
LOOKUP_LIMIT = 200

SORRY = (
    "Sorry, something went wrong on my side and I couldn't finish that. Please try again in a minute; "
    "if it keeps happening, let your system administrator know."
)


def work_out_messages(
    answer: Callable[[dict[str, Any]], list[Reply]], payload: dict[str, Any], failure_event: str
) -> list[dict[str, Any]]:
    """The Slack messages (text and blocks) of the replies to ``payload``, worked out once to be stored with the
    work; a failure becomes an apology for the officer and one log line for operators."""
    try:
        replies = answer(payload)
    except Exception as error:  # noqa: BLE001 - the officer gets a plain message; operators get the log
        log.error(failure_event, error=type(error).__name__, detail=str(error)[:300])
        replies = [Reply(SORRY, ReplyKind.PROBLEM)]
    return rendered(replies)


def rendered(replies: Sequence[Reply], *, native_feedback: bool = False) -> list[dict[str, Any]]:
    """Replies as the Slack messages (text and blocks) that are stored with the work and sent."""
    return [
        {"text": message.text, "blocks": message.blocks}
        for reply in replies
        for message in blocks.render_reply_messages(reply, native_feedback=native_feedback)
    ]


def delivery_client(token: str, base_url: str) -> WebClient:
    """A Web API client for the queue's posts: it never waits or retries by itself.

    A 429 comes back to the worker, which puts the work back until ``Retry-After`` instead of sleeping;
    a dropped connection is not re-sent blindly, because Slack may already have posted the message.
    """
    client = WebClient(token=token, base_url=base_url if base_url.endswith("/") else base_url + "/", timeout=15)
    client.retry_handlers = []
    return client


def queue_answer(
    enqueue: Callable[[str, str, dict[str, object], str], int | None],
    *,
    event_id: str,
    team_id: str,
    channel: str,
    user: str,
    text: str,
    conversation_key: str,
    thread_ts: str | None,
    join_thread: str | None,
) -> bool:
    """Store the answer's work before Slack is acknowledged; False when this event is already stored."""
    payload: dict[str, object] = {
        "team_id": team_id,
        "channel": channel,
        "user": user,
        "text": text,
        "conversation_key": conversation_key,
        "thread_ts": thread_ts,
        "join_thread": join_thread,
    }
    return enqueue(ANSWER_KIND, f"{PLATFORM}:{team_id}:{channel}", payload, f"{PLATFORM}:{event_id}") is not None


class SlackAnswerWork:
    """The worker's side: work out, then post each part once, at the channel's pace."""

    def __init__(
        self,
        client: WebClient,
        answer: Callable[[dict[str, Any]], list[Reply]],
        next_turn: Callable[[str], float],
    ) -> None:
        """``answer`` works out the replies for a stored payload (joining its thread first, so a follow-up sent
        the moment the answer appears is read in context); ``next_turn(channel)`` is how many seconds
        until the channel may have another message (0 takes the turn)."""
        self._client = client
        self._answer = answer
        self._next_turn = next_turn

    def __call__(self, work: ClaimedWork, queue: WorkQueue) -> Outcome:
        payload = work.payload
        progress = dict(work.progress)
        if "messages" not in progress:
            if progress.get("working_out"):
                # The process working it out stopped before its replies were stored: the message may already
                # have moved the officer's conversation on, so it is not worked out again; they are told.
                log.warning("slack_answer_interrupted", work_id=work.id, attempt=work.attempts)
                messages = rendered([Reply(INTERRUPTED, ReplyKind.PROBLEM)])
            else:
                if not queue.save_progress(work, {"working_out": True}):
                    return Done()  # the lease ran out and another worker has it now
                messages = work_out_messages(self._answer, payload, "slack_reply_failed")
            # Saved with the first part's "sending" mark below (one write), or when the work waits its turn.
            progress = {"messages": messages, "posted": []}
        channel, thread_ts = str(payload["channel"]), payload.get("thread_ts")
        posted: list[int] = list(progress.get("posted", []))
        found: set[int] | None = None
        for part, message in enumerate(progress["messages"]):
            if part in posted:
                continue
            if progress.get("uncertain") or progress.get("sending") is not None:
                # A previous attempt may have posted this part without hearing back, or died while posting it.
                if found is None:
                    found = tagged_parts(self._client, work, channel, thread_ts)
                if part in found:
                    posted.append(part)
                    log.info("slack_answer_part_found", work_id=work.id, part=part)
                    continue
            wait = self._next_turn(channel)
            if wait > 0:
                progress["posted"] = posted
                queue.save_progress(work, progress)
                return Later(utc_now() + timedelta(seconds=wait), "paced", was_attempt=False)
            # Marked before posting: if this process dies now, the next attempt looks before posting again.
            progress["posted"], progress["sending"] = posted, part
            queue.save_progress(work, progress)
            outcome = self._post(work, channel, thread_ts, part, message)
            progress["sending"] = None
            if outcome is not None:
                progress["posted"] = posted
                uncertain = isinstance(outcome, Later) and outcome.reason == "uncertain"
                progress["uncertain"] = uncertain or bool(progress.get("uncertain"))
                queue.save_progress(work, progress)
                return outcome
            posted.append(part)
            progress["posted"] = posted
            if len(posted) < len(progress["messages"]):
                queue.save_progress(work, progress)  # the last part needs no save: the work is marked done next
        return Done(kept=KEEP_ONLY_THE_KEY)

    def _post(
        self, work: ClaimedWork, channel: str, thread_ts: Any, part: int, message: dict[str, Any]
    ) -> Outcome | None:
        """Post one part; None when Slack took it, else what to do with the work."""
        try:
            post_tagged(self._client, work, part, channel, thread_ts, message)
            return None
        except SlackApiError as error:
            status = error.response.status_code
            code = str(error.response.get("error") or "")
            if status == 429 or code == "ratelimited":
                wait = retry_after_seconds(getattr(error.response, "headers", {}) or {})
                return Later(utc_now() + timedelta(seconds=wait), "rate_limited", hold_channel=True, was_attempt=False)
            if status >= 500 or code in RETRYABLE_ERRORS:
                log.warning("slack_post_uncertain", work_id=work.id, part=part, status=status, error=code)
                return Later(utc_now() + retry_delay(work.attempts), "uncertain")
            log.error("slack_post_refused", work_id=work.id, part=part, status=status, error=code)
            return GiveUp(f"slack refused: {code or status}")
        except Exception as error:  # noqa: BLE001 - a timeout or dropped connection: Slack may have posted it
            log.warning("slack_post_uncertain", work_id=work.id, part=part, error=type(error).__name__)
            return Later(utc_now() + retry_delay(work.attempts), "uncertain")


def post_tagged(
    client: WebClient, work: ClaimedWork, part: int, channel: str, thread_ts: Any, message: Mapping[str, Any]
) -> None:
    """Post one part of ``work``, tagged in its metadata with the work id and part, so that after an unclear
    failure :func:`tagged_parts` can tell whether Slack has it."""
    client.chat_postMessage(
        channel=channel,
        thread_ts=thread_ts,
        text=message["text"],
        blocks=message["blocks"],
        unfurl_links=False,
        metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"work_id": work.id, "part": part}},
    )


def tagged_parts(client: WebClient, work: ClaimedWork, channel: str, thread_ts: Any) -> set[int]:
    """The parts of ``work`` Slack already has, found by their metadata in the thread (or channel)."""
    oldest = f"{work.created_at.timestamp() - 60:.6f}"
    if thread_ts:
        response = client.conversations_replies(
            channel=channel, ts=str(thread_ts), include_all_metadata=True, limit=LOOKUP_LIMIT, oldest=oldest
        )
    else:
        response = client.conversations_history(
            channel=channel, include_all_metadata=True, limit=LOOKUP_LIMIT, oldest=oldest
        )
    parts: set[int] = set()
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        content = metadata.get("event_payload") or {}
        if metadata.get("event_type") == METADATA_EVENT_TYPE and content.get("work_id") == work.id:
            parts.add(int(content.get("part", 0)))
    return parts


def retry_after_seconds(headers: Mapping[str, Any]) -> float:
    """How long Slack asked to wait (its ``Retry-After``), at least a second."""
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
