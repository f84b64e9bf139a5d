"""POST /api/messages: the one door Teams knocks on.

Each request, in order, with no side effect until the token has passed:

1. parse the activity (Microsoft's own models, ``microsoft-agents-activity``);
2. authenticate the channel's bearer token (:mod:`handlers.teams.auth`): 401/403 otherwise;
3. invokes (card buttons, dialogs) are de-duplicated on the activity id in the shared
   processed-event table (Teams redelivers an activity it got no answer to within
   about 15 seconds), worked out and answered in the HTTP response; what follows the
   answer (further replies, new cards, slow work) is stored in the durable work queue,
   keyed on the invoke, before the answer is returned;
4. everything else is stored in the durable work queue (one insert keyed on the
   activity id, which de-duplicates it) and only then acknowledged with 200.

A queue worker in this or any other process then handles a stored activity in two steps
(:meth:`TeamsAdapter._handle_stored`): it works out the replies once (the conversation step applied,
the answer found), storing the rendered parts with the work, and then sends each part once
(:mod:`handlers.teams.delivery`). A process that dies part-way leaves the rest to the next one, which
neither works the replies out again nor sends a part already sent.

:class:`TeamsAdapter` builds the parts once per process and also carries the
:class:`~handlers.teams.proactive.TeamsMessenger` the nudges and feedback use.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from typing import Any

import structlog
from microsoft_agents.activity import Activity
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from handlers.services import ChatServices
from handlers.teams.activities import TeamsBot, addressed_to_bot
from handlers.teams.auth import ChannelAuthenticator, ChannelAuthError, MetadataUnavailableError
from handlers.teams.connector import ConnectorClient
from handlers.teams.constants import (
    INVOKE_CARD_ACTION,
    MESSAGE_RESPONSE_TYPE,
    PLATFORM,
)
from handlers.teams.context import SOMETHING_WENT_WRONG
from handlers.teams.delivery import TeamsDelivery, new_progress, stored_parts
from handlers.teams.invokes import InvokeResult
from handlers.teams.outbox import Part
from handlers.teams.proactive import TeamsMessenger
from handlers.teams.request_guard import refuse_without_bearer_token
from handlers.teams.settings import TeamsSettings
from handlers.teams.token import BotTokenProvider
from storage.events import ProcessedEvents
from storage.people import PeopleRepository
from storage.work_queue import ClaimedWork, WorkQueue
from workflows.replies import INTERRUPTED, Reply, ReplyKind
from workflows.work_runner import Done, GiveUp, Outcome

log = structlog.get_logger(__name__)

ENDPOINT_PATH = "/api/messages"
ACTIVITY_KIND = "teams.activity"
FOLLOW_UP_KIND = "teams.follow_up"
MAX_BODY_BYTES = 512 * 1024
# Answers to recent invokes, so a redelivered invoke gets the same answer rather than "already done".
REMEMBERED_INVOKE_ANSWERS = 500
ALREADY_HANDLED = "That was already done."


class TeamsAdapter:
    """Everything the Teams side needs, built once per process from the services."""

    def __init__(self, services: ChatServices, settings: TeamsSettings) -> None:
        if not settings.configured:
            raise ValueError("Teams needs TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID")
        self.services = services
        self.authenticator = ChannelAuthenticator(settings)
        self.tokens = BotTokenProvider(settings)
        self.connector = ConnectorClient(settings, self.tokens)
        self.bot = TeamsBot(services, self.connector)
        self.messenger = TeamsMessenger(PeopleRepository(services.database), self.connector)
        self.delivery = TeamsDelivery(self.bot.teams, self.connector)
        self._events = ProcessedEvents(services.database)
        self._answers: OrderedDict[str, InvokeResult] = OrderedDict()
        self._answers_lock = threading.Lock()
        self.work = services.work
        self.work.handles(ACTIVITY_KIND, self._handle_stored)
        self.work.handles(FOLLOW_UP_KIND, self._handle_follow_up)
        self.work.start()

    # --- the HTTP endpoint ---------------------------------------------------------------------

    async def handle_request(self, request: Request) -> Response:
        refusal = refuse_without_bearer_token(request.headers)  # before anything is parsed
        if refusal is not None:
            return refusal
        body = await request.body()  # its size is already bounded by handlers.http_guard
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "activity too large"}, status_code=413)
        try:
            payload = json.loads(body)
            activity = Activity.model_validate(payload)
        except (ValueError, ValidationError):
            log.warning("teams_request_refused", status=400, reason="not an activity")
            return JSONResponse({"error": "expected a Bot Framework activity"}, status_code=400)

        try:
            await run_in_threadpool(
                self.authenticator.authenticate,
                request.headers.get("authorization"),
                activity.service_url,
                activity.channel_id,
            )
        except ChannelAuthError as error:
            log.warning("teams_request_refused", status=error.status, reason=error.reason, type=activity.type)
            return Response(status_code=error.status)
        except MetadataUnavailableError:
            # We cannot check the token, so we must not act on it; the channel will deliver it again.
            return Response(status_code=503)

        key = dedupe_key(activity)
        if activity.type != "invoke":
            # Stored before the 200 (one insert, keyed on the activity id): a worker in this or another process
            # handles it, and a redelivered activity adds nothing.
            stored = await run_in_threadpool(self._store, activity, payload, key)
            if stored is None:
                log.info("teams_duplicate_ignored", type=activity.type)
            return Response(status_code=200)
        if key is not None and not await run_in_threadpool(self._events.first_time, PLATFORM, key):
            log.info("teams_duplicate_ignored", type=activity.type)
            if activity.type == "invoke":
                return self._invoke_response(self._remembered(key) or _already_handled(activity))
            return Response(status_code=200)

        log.info("teams_activity", type=activity.type, invoke=activity.name)
        if activity.type == "invoke":
            try:
                result, follow_up = await run_in_threadpool(self.bot.on_invoke, activity)
            except Exception as error:  # noqa: BLE001 - Teams shows the officer a generic failure; the log has why
                log.error(
                    "teams_invoke_failed", invoke=activity.name, error=type(error).__name__, detail=str(error)[:300]
                )
                return self._invoke_response(_failed(activity))
            if follow_up:
                try:
                    # Stored before Teams has its answer: a process that dies after answering still follows up.
                    await run_in_threadpool(self._store_follow_up, activity, payload, key, follow_up)
                except Exception as error:  # noqa: BLE001 - the officer is told it failed rather than left waiting
                    log.error("teams_follow_up_not_stored", invoke=activity.name, error=type(error).__name__)
                    return self._invoke_response(_failed(activity))
            if key is not None:
                self._remember(key, result)
            return self._invoke_response(result)
        return Response(status_code=200)  # not reached: every other activity was stored above

    # --- activities through the durable work queue ------------------------------------------------

    def _store(self, activity: Activity, payload: dict[str, Any], key: str | None) -> int | None:
        conversation = activity.conversation.id if activity.conversation else ""
        dedup = f"{PLATFORM}:{key}" if key is not None else f"{PLATFORM}:no-id:{uuid.uuid4().hex}"
        return self.work.enqueue(ACTIVITY_KIND, f"{PLATFORM}:{conversation}", {"activity": payload}, dedup)

    def _store_follow_up(self, activity: Activity, payload: dict[str, Any], key: str | None, parts: list[Part]) -> None:
        conversation = activity.conversation.id if activity.conversation else ""
        dedup = f"{PLATFORM}:follow-up:{key}" if key is not None else f"{PLATFORM}:follow-up:{uuid.uuid4().hex}"
        # The invoke itself says where to send and whom to mark unreachable; the parts what to send.
        stored: dict[str, object] = {"activity": payload, "parts": stored_parts(parts)}
        self.work.enqueue(FOLLOW_UP_KIND, f"{PLATFORM}:{conversation}", stored, dedup)

    def _handle_stored(self, work: ClaimedWork, queue: WorkQueue) -> Outcome:
        """A stored activity (messages, installs), in a worker after Teams had its 200: its replies are worked
        out once and stored with the work, then each is sent once (:mod:`handlers.teams.delivery`)."""
        activity = Activity.model_validate(work.payload["activity"])
        progress = dict(work.progress)
        if "parts" not in progress:
            parts = self._work_out(work, queue, activity, progress)
            if parts is None:
                return Done()  # the claim was lost: whoever holds it now goes on
            if isinstance(parts, GiveUp):
                return parts
            progress = new_progress(parts)
        else:
            log.info("teams_activity_resumed", work_id=work.id, type=activity.type, attempt=work.attempts)
        return self.delivery.deliver(work, queue, activity, progress)

    def _work_out(
        self, work: ClaimedWork, queue: WorkQueue, activity: Activity, progress: dict[str, Any]
    ) -> list[Part] | GiveUp | None:
        """The activity's replies, worked out once. A message whose working out was interrupted (the process
        died before its replies were stored) is not done again, as its conversation step may already have been
        applied: the officer is told instead. Other activities (installs) are safe to do again."""
        if progress.get("working_out") and activity.type == "message":
            log.warning("teams_activity_interrupted", work_id=work.id, attempt=work.attempts)
            if not addressed_to_bot(activity):
                return []
            return self.bot.teams.reply_parts(activity, [Reply(INTERRUPTED, ReplyKind.PROBLEM)], None)
        if progress.get("working_out"):
            log.warning("teams_activity_redone", work_id=work.id, type=activity.type, attempt=work.attempts)
        if not queue.save_progress(work, {"working_out": True}):
            return None
        try:
            return self.bot.on_activity(activity)
        except Exception as error:  # noqa: BLE001 - not repeated: it may have changed something before it failed
            log.error("teams_work_failed", what=activity.type, error=type(error).__name__, detail=str(error)[:300])
            return GiveUp(f"{type(error).__name__}: {str(error)[:200]}")

    def _handle_follow_up(self, work: ClaimedWork, queue: WorkQueue) -> Outcome:
        """What follows an invoke's answer, stored before the answer was returned: each part sent once."""
        activity = Activity.model_validate(work.payload["activity"])
        return self.delivery.deliver(work, queue, activity, dict(work.progress), list(work.payload.get("parts") or []))

    @staticmethod
    def _invoke_response(result: InvokeResult) -> Response:
        if result.body is None:
            return Response(status_code=result.status)
        return JSONResponse(result.body, status_code=result.status)

    def _remember(self, key: str, result: InvokeResult) -> None:
        with self._answers_lock:
            self._answers[key] = result
            while len(self._answers) > REMEMBERED_INVOKE_ANSWERS:
                self._answers.popitem(last=False)

    def _remembered(self, key: str) -> InvokeResult | None:
        with self._answers_lock:
            return self._answers.get(key)

    def routes(self) -> list[Route]:
        return [Route(ENDPOINT_PATH, self.handle_request, methods=["POST"])]

    def close(self) -> None:
        self.work.stop()  # within SHUTDOWN_GRACE_SECONDS; what is left stays queued for the next process
        self.connector.close()
        self.tokens.close()


def dedupe_key(activity: Activity) -> str | None:
    """Activity ids are unique within a conversation, not across them (channel posts use timestamps)."""
    if not activity.id:
        return None
    conversation = activity.conversation.id if activity.conversation else ""
    return f"{conversation}|{activity.id}"


def _already_handled(activity: Activity) -> InvokeResult:
    if activity.name == INVOKE_CARD_ACTION:
        return InvokeResult(200, {"statusCode": 200, "type": MESSAGE_RESPONSE_TYPE, "value": ALREADY_HANDLED})
    return InvokeResult(200, {"task": {"type": "message", "value": ALREADY_HANDLED}})


def _failed(activity: Activity) -> InvokeResult:
    """What Teams shows the officer when a button's work failed on our side."""
    if activity.name == INVOKE_CARD_ACTION:
        return InvokeResult(
            200,
            {
                "statusCode": 500,
                "type": "application/vnd.microsoft.error",
                "value": {"code": "InternalError", "message": SOMETHING_WENT_WRONG},
            },
        )
    return InvokeResult(200, {"task": {"type": "message", "value": SOMETHING_WENT_WRONG}})
