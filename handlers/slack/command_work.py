"""Slash commands through the durable work queue: stored before Slack is acknowledged, answered once.

``/commissioning <sub-command>`` (other than the ones that open a modal, which must use the trigger id
within three seconds and so stay in the listener) is one insert keyed on the command's trigger id, which
Slack makes new for every invocation: a repeated delivery of the same request adds nothing. A worker in
whichever process is alive then:

1. works the replies out once and stores the rendered messages with the work;
2. posts each part to the command's ``response_url`` (only the officer sees it), marking it "sending"
   first and "posted" after;
3. on a 429 puts the work back until ``Retry-After``; on a refused connection (nothing reached Slack) or a
   5xx (Slack did not take it) tries again later.

A ``response_url`` message cannot be looked up afterwards (it is ephemeral and carries no metadata), so a
part whose outcome is unknown (the process died while posting it, or Slack never answered) is not posted
again: it is logged, because a second copy of an answer is worse for the officer than a log line for
the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import httpx
import structlog

from handlers.slack.answers import retry_after_seconds, work_out_messages
from handlers.slack.constants import PLATFORM
from storage.base import utc_now
from storage.work_queue import ClaimedWork, WorkQueue
from workflows.replies import Reply
from workflows.work_runner import KEEP_ONLY_THE_KEY, Done, GiveUp, Later, Outcome, retry_delay

__all__ = ["COMMAND_KIND", "ResponseOutcome", "ResponseResult", "SlackCommandWork", "post_response", "queue_command"]

log = structlog.get_logger(__name__)

COMMAND_KIND = "slack.command"
POST_TIMEOUT_SECONDS = 15.0


def queue_command(
    enqueue: Callable[[str, str, dict[str, object], str], int | None],
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> bool:
    """Store a slash command's work before Slack is acknowledged; False when this request is already stored."""
    payload: dict[str, object] = {
        "team_id": team_id,
        "user_id": user_id,
        "channel_id": channel_id,
        "text": text,
        "response_url": response_url,
    }
    channel_key = f"{PLATFORM}:{team_id}:{channel_id}"
    return enqueue(COMMAND_KIND, channel_key, payload, f"{PLATFORM}:command:{trigger_id}") is not None


class SlackCommandWork:
    """The worker's side: work the replies out once, then post each part to the response_url at most once."""

    def __init__(self, answer: Callable[[dict[str, Any]], list[Reply]], http: httpx.Client | None = None) -> None:
        """``answer`` works out the replies for a stored payload (in a worker, after the acknowledgement)."""
        self._answer = answer
        # No retries of its own: the queue decides when to try again, and never re-sends an unknown outcome.
        self._http = http or httpx.Client(timeout=POST_TIMEOUT_SECONDS)

    def __call__(self, work: ClaimedWork, queue: WorkQueue) -> Outcome:
        progress = dict(work.progress)
        if "messages" not in progress:
            progress["messages"] = work_out_messages(self._answer, work.payload, "slack_command_failed")
            progress["posted"] = []
        posted: list[int] = list(progress.get("posted", []))
        unknown: list[int] = list(progress.get("unknown", []))
        sending = progress.get("sending")
        if sending is not None and sending not in posted and sending not in unknown:
            # A previous process died while posting this part: Slack may have shown it already.
            log.warning("slack_command_part_unconfirmed", work_id=work.id, part=sending, reason="died_while_posting")
            unknown.append(sending)
        url = str(work.payload["response_url"])
        for part, message in enumerate(progress["messages"]):
            if part in posted or part in unknown:
                continue
            progress.update(posted=posted, unknown=unknown, sending=part)
            queue.save_progress(work, progress)  # marked before posting, so a restart never posts it twice
            outcome = self._post(work, url, part, message)
            progress["sending"] = None
            if outcome == "posted":
                posted.append(part)
            elif outcome == "unknown":
                unknown.append(part)
            elif not isinstance(outcome, str):
                progress.update(posted=posted, unknown=unknown)
                queue.save_progress(work, progress)
                return outcome
            if len(posted) + len(unknown) < len(progress["messages"]):
                progress.update(posted=posted, unknown=unknown)
                queue.save_progress(work, progress)
        return Done(kept=KEEP_ONLY_THE_KEY)

    def _post(self, work: ClaimedWork, url: str, part: int, message: dict[str, Any]) -> str | Outcome:
        """Post one part: "posted", "unknown" (Slack may have it), or what to do with the work."""
        body = {**message, "response_type": "ephemeral", "replace_original": False}
        result = post_response(self._http, url, body)
        fields: dict[str, Any] = {"work_id": work.id, "part": part, "reason": result.reason}
        if result.outcome is ResponseOutcome.RETRY:
            log.warning("slack_command_post_failed", **fields)
            return Later(utc_now() + retry_delay(work.attempts), result.reason)
        if result.outcome is ResponseOutcome.UNKNOWN:
            log.warning("slack_command_part_unconfirmed", **fields)
            return "unknown"
        if result.outcome is ResponseOutcome.WAIT:
            at = utc_now() + timedelta(seconds=result.wait)
            return Later(at, "rate_limited", hold_channel=True, was_attempt=False)
        if result.outcome is ResponseOutcome.REFUSED:
            log.error("slack_command_post_refused", **fields)
            return GiveUp(f"slack refused the response: {result.reason}")
        return "posted"


class ResponseOutcome(StrEnum):
    POSTED = "posted"
    UNKNOWN = "unknown"  # sent, but no answer: Slack may have shown it
    RETRY = "retry"  # Slack did not take it (nothing reached it, or a 5xx): safe to try again
    WAIT = "wait"  # rate-limited: try again after ``wait`` seconds
    REFUSED = "refused"  # expired (a response_url lasts 30 minutes) or refused: trying again cannot help


@dataclass(frozen=True)
class ResponseResult:
    outcome: ResponseOutcome
    reason: str = ""
    wait: float = 0.0


def post_response(http: httpx.Client, url: str, body: Mapping[str, Any]) -> ResponseResult:
    """POST one message to a ``response_url`` (which cannot be looked up afterwards) and say what became of it."""
    try:
        response = http.post(url, json=dict(body))
    except httpx.ConnectError as error:
        return ResponseResult(ResponseOutcome.RETRY, f"connect_failed: {type(error).__name__}")
    except httpx.HTTPError as error:
        return ResponseResult(ResponseOutcome.UNKNOWN, type(error).__name__)
    status = response.status_code
    if status == 429:
        return ResponseResult(ResponseOutcome.WAIT, "rate_limited", retry_after_seconds(response.headers))
    if status >= 500:
        return ResponseResult(ResponseOutcome.RETRY, f"server_error: {status}")
    if status >= 400:
        return ResponseResult(ResponseOutcome.REFUSED, str(status))
    return ResponseResult(ResponseOutcome.POSTED)
