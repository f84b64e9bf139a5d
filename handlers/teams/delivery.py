"""Sending the worked-out replies of a Teams activity (or of an invoke's follow-up) once each, from the queue.

The parts (:class:`~handlers.teams.outbox.Part`) are stored with the work before the first is sent. Then
each part, in order:

1. waits for the conversation's turn (Teams allows about seven messages a second in one conversation): when
   it is not yet its turn the work goes back to the queue until then, holding the rest of the conversation,
   and the worker moves on to other conversations;
2. is marked "sending" in the work's progress, then sent with one Connector request that never sleeps, then
   marked sent with the id the Connector gave it;
3. on a 429 or 412 goes back to the queue until ``Retry-After`` (waiting uses up no try); on a 5xx, a
   connection that never opened or a token Entra would not give, goes back with a growing delay (1, 2, 4 …
   seconds, at most a minute, eight tries); on a 403 (the app was removed or blocked) gives up and marks the
   person unreachable; on any other refusal (400, 404, 413) that part is logged and skipped.

A retry, in this process or another, skips the parts already sent. A part whose outcome is unknown (the
Connector may have posted it: a 502/504 or a timeout after sending, or a process that died between marking
it "sending" and recording it sent) is not posted again. The Bot Connector has no way to make a post
idempotent (it ignores an activity id chosen by the bot) and no way for a bot to list the messages it has
sent, so nothing can be looked up before trying again: such a part is logged
(``teams_reply_part_unconfirmed``) and the rest go on, because a second copy of a reply is worse for the
officer than a log line for the operator. Replacing a card (a PUT of the same content) and the registered
jobs are safe to do twice, so those are simply done again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from microsoft_agents.activity import Activity

from handlers.teams.connector import (
    THROTTLED,
    ConnectorClient,
    ConnectorError,
    ConversationForbiddenError,
    DeliveryUncertainError,
    ServiceUrlNotAllowedError,
)
from handlers.teams.context import TeamsContext
from handlers.teams.outbox import Part
from handlers.teams.token import BotTokenError
from storage.base import utc_now
from storage.work_queue import ClaimedWork, WorkQueue
from workflows.work_runner import KEEP_ONLY_THE_KEY, Done, GiveUp, Later, Outcome

__all__ = ["MAX_TRIES", "TeamsDelivery", "new_progress", "stored_parts"]

log = structlog.get_logger(__name__)

MAX_TRIES = 8
RETRY_BASE_SECONDS = 1.0
RETRY_CAP = timedelta(minutes=1)

Result = tuple[Literal["sent", "unknown", "refused"], str]


def new_progress(parts: list[Part]) -> dict[str, Any]:
    """The progress of work whose parts have just been worked out (stored with it): nothing sent yet."""
    return {"parts": stored_parts(parts), "sent": {}, "unknown": [], "refused": [], "sending": None}


def stored_parts(parts: list[Part]) -> list[dict[str, Any]]:
    return [part.to_json() for part in parts]


class TeamsDelivery:
    def __init__(
        self, teams: TeamsContext, connector: ConnectorClient, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._teams = teams
        self._connector = connector
        self._clock = clock

    def deliver(
        self,
        work: ClaimedWork,
        queue: WorkQueue,
        activity: Activity,
        progress: dict[str, Any],
        stored: list[dict[str, Any]] | None = None,
    ) -> Outcome:
        """Send the parts (``stored`` with the work, or in ``progress`` by :func:`new_progress`) that ``progress``
        does not show as sent, in reply to ``activity``; what to do with the work."""
        parts = [Part.from_json(part) for part in (stored if stored is not None else progress.get("parts") or [])]
        sent: dict[str, str] = dict(progress.get("sent") or {})
        unknown: list[int] = list(progress.get("unknown") or [])
        refused: list[int] = list(progress.get("refused") or [])
        sending = progress.get("sending")
        if isinstance(sending, int) and _unrecorded_post(sending, parts, sent, unknown):
            # A previous claim marked it and never recorded it: the process died while sending it.
            log.warning("teams_reply_part_unconfirmed", work_id=work.id, part=sending, reason="died_while_sending")
            unknown.append(sending)
        progress = {**progress, "sent": sent, "unknown": unknown, "refused": refused, "sending": None}
        conversation = activity.conversation.id if activity.conversation else ""
        service_url = activity.service_url or ""
        for index, part in enumerate(parts):
            if str(index) in sent or index in unknown or index in refused:
                continue
            if part.kind != "job":
                if not conversation or not service_url:
                    log.warning("teams_reply_nowhere_to_send", work_id=work.id, part=index)
                    refused.append(index)
                    continue
                wait = self._connector.next_turn(conversation)
                if wait > 0:
                    paced = Later(self._in(wait), "paced", hold_channel=True, was_attempt=False)
                    return self._put_back(work, queue, progress, paced)
            progress["sending"] = index
            if not queue.save_progress(work, progress):  # marked before sending: a restart never sends it twice
                return self._claim_lost(work)
            result = self._do(work, activity, service_url, conversation, index, part)
            progress["sending"] = None
            if not isinstance(result, tuple):
                return self._put_back(work, queue, progress, result)
            what, sent_id = result
            if what == "sent":
                sent[str(index)] = sent_id
            elif what == "unknown":
                unknown.append(index)
            else:
                refused.append(index)
            if not queue.save_progress(work, progress):
                return self._claim_lost(work)
        return Done(kept=KEEP_ONLY_THE_KEY)

    # --- one part ------------------------------------------------------------------------------------

    def _do(
        self, work: ClaimedWork, activity: Activity, service_url: str, conversation: str, index: int, part: Part
    ) -> Result | Outcome:
        fields: dict[str, Any] = {"work_id": work.id, "part": index, "kind": part.kind}
        if part.kind == "job":
            try:
                self._teams.cards.run_job(part.job or "", part.args or {})
            except Exception as error:  # noqa: BLE001 - tried again later; operators get the log
                log.warning("teams_job_failed", job=part.job, error=type(error).__name__, detail=str(error)[:200])
                return self._retry(work, f"job {part.job} failed: {type(error).__name__}", **fields)
            return "sent", ""
        message = part.activity or {}
        try:
            if part.kind == "update":
                self._connector.update(service_url, conversation, part.activity_id or "", message, patient=False)
                return "sent", part.activity_id or ""
            sent_id = self._connector.send(service_url, conversation, message, reply_to_id=part.reply_to, patient=False)
        except ConversationForbiddenError:
            self._teams.mark_sender_unreachable(activity)
            log.warning("teams_reply_forbidden", **fields)
            return GiveUp("Teams refused: the app was removed or the conversation is blocked")
        except DeliveryUncertainError as error:
            log.warning("teams_reply_part_unconfirmed", reason="no_clear_answer", status=error.status, **fields)
            return "unknown", ""
        except ServiceUrlNotAllowedError as error:
            log.error("teams_reply_refused", reason=str(error), **fields)
            return GiveUp(str(error))
        except ConnectorError as error:
            status = error.status
            if status in THROTTLED:
                wait = error.retry_after if error.retry_after is not None else RETRY_BASE_SECONDS
                log.info("teams_reply_throttled", status=status, retry_after=wait, **fields)
                return Later(self._in(wait), "throttled", hold_channel=True, was_attempt=False)
            if status is None or status >= 500 or status == 401:
                return self._retry(work, f"connector: {status or type(error).__name__}", status=status, **fields)
            log.error("teams_reply_refused", status=status, code=error.code, **fields)
            return "refused", ""
        except BotTokenError as error:
            return self._retry(work, f"no bot token: {type(error).__name__}", **fields)
        self._teams.remember_answer_delivery(part.answer_key, conversation, sent_id)
        return "sent", sent_id or ""

    # --- putting the work back -------------------------------------------------------------------------

    def _retry(self, work: ClaimedWork, why: str, **fields: Any) -> Outcome:
        if work.attempts >= MAX_TRIES:
            log.error("teams_reply_given_up", why=why, attempts=work.attempts, **fields)
            return GiveUp(why)
        delay = min(RETRY_CAP, timedelta(seconds=RETRY_BASE_SECONDS * 2 ** max(0, work.attempts - 1)))
        log.warning("teams_reply_will_retry", why=why, retry_in=delay.total_seconds(), **fields)
        return Later(self._clock() + delay, why, hold_channel=True)

    @staticmethod
    def _put_back(work: ClaimedWork, queue: WorkQueue, progress: dict[str, Any], outcome: Outcome) -> Outcome:
        if not queue.save_progress(work, progress):
            return TeamsDelivery._claim_lost(work)
        return outcome

    @staticmethod
    def _claim_lost(work: ClaimedWork) -> Outcome:
        # Another worker took the work over (this one's lease ran out): it goes on from what was recorded.
        log.warning("teams_reply_claim_lost", work_id=work.id)
        return Done()

    def _in(self, seconds: float) -> datetime:
        return self._clock() + timedelta(seconds=seconds)


def _unrecorded_post(sending: int, parts: list[Part], sent: dict[str, str], unknown: list[int]) -> bool:
    """Whether the part marked "sending" is a post nobody recorded as sent (an update or a job is done again)."""
    if not 0 <= sending < len(parts):
        return False
    return parts[sending].kind == "post" and str(sending) not in sent and sending not in unknown
