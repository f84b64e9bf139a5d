"""Button presses, modal submissions, the App Home and the assistant panel through the durable work queue.

A listener does only what must happen inside Slack's three seconds (open a modal with the trigger id, show
field errors with ``response_action``), then stores the rest as one row (:func:`queue_interaction`, kind
``slack.interaction``) keyed on Slack's own ids, before it acknowledges: a press's ``action_ts`` with the
user and the action id, a submitted view's id and hash, an event's id. A Slack retry of the same request
adds nothing, and a crash after the 200 loses nothing.

The row names a task; each feature registers its task function next to its listener with
:func:`interaction_task`. A worker in whichever process is alive runs the function with an
:class:`InteractionRun`, which makes it safe to run the function again after a crash or a wait:

- :meth:`InteractionRun.step` does a piece of work once (storing a rating, snoozing a nudge, advancing a
  stage, working out the replies) and keeps its result with the work, so a resumed run reads the result
  instead of doing it again;
- :meth:`InteractionRun.post` posts each message once, at the channel's pace, tagged with message
  metadata (work id and part); a post whose outcome is unknown is looked up before it is sent again;
- :meth:`InteractionRun.respond` posts to a ``response_url`` (which cannot be looked up): a part whose
  outcome is unknown is logged, never posted twice;
- :meth:`InteractionRun.once` does something Slack cannot tell us about afterwards (a file upload) at
  most once; :meth:`InteractionRun.effect` repeats a call that is harmless to repeat (a redrawn App Home,
  an edited message) until it has worked.

A task that fails gets the officer the one apology (``answers.SORRY``) where the listener said to send it,
and the work is kept, failed, with the reason for an operator.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Generic, TypeVar

import httpx
import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.slack.answers import RETRYABLE_ERRORS, SORRY, post_tagged, rendered, retry_after_seconds, tagged_parts
from handlers.slack.command_work import ResponseOutcome, post_response
from handlers.slack.constants import PLATFORM
from storage.base import utc_now
from storage.work_queue import ClaimedWork, WorkQueue
from workflows.replies import Reply, ReplyKind
from workflows.work_runner import Done, GiveUp, Later, Outcome, retry_delay

__all__ = [
    "INTERACTION_KIND",
    "InteractionRun",
    "SlackInteractionWork",
    "interaction_dedup_key",
    "interaction_task",
    "queue_interaction",
    "rendered",
]

log = structlog.get_logger(__name__)

INTERACTION_KIND = "slack.interaction"
SEND_TASK = "send"
POST_TIMEOUT_SECONDS = 15.0
# What private work keeps once done: only its task name (its key still turns a retry away), or nothing at all.
REDACT = "redact"
FORGET = "forget"
# The apology's part number: apart from the task's own parts, whichever step failed.
APOLOGY_PART = 10_000

# The listeners' shared parts (``context.SlackContext``), named here only by type: that module builds this one.
SlackParts = TypeVar("SlackParts")
Task = TypeVar("Task", bound=Callable[..., None])
_TASKS: dict[str, Callable[..., None]] = {}


def interaction_task(name: str) -> Callable[[Task], Task]:
    """Register ``function(run, payload)`` as the task ``name`` (beside the listener that stores it); ``run.slack``
    is the listeners' ``SlackContext``."""

    def register(function: Task) -> Task:
        _TASKS[name] = function
        return function

    return register


def queue_interaction(
    enqueue: Callable[[str, str, dict[str, object], str], int | None],
    task: str,
    payload: Mapping[str, Any],
    *,
    key: str,
    team_id: str,
    where: str,
    apology: Mapping[str, Any] | None = None,
    when_done: str | None = None,
) -> bool:
    """Store an interaction's work before Slack is acknowledged; False when this request is already stored.

    ``key`` is Slack's own id for the request; ``where`` (a channel, or the officer) orders the work with
    other replies there; ``apology`` says where the officer is told if the work fails: ``{"channel": ...,
    "thread_ts": ...}``, ``{"user": ...}`` (their direct messages) or ``{"response_url": ...}``.
    ``when_done``: :data:`REDACT` for work that carries an answer's ref beside who rated it (kept only until
    it is done), :data:`FORGET` for work that carries a secret (deleted once delivered).
    """
    if task not in _TASKS:
        raise KeyError(f"no Slack task named {task}")
    stored: dict[str, object] = {
        "task": task,
        **payload,
        "apology": dict(apology) if apology else None,
        "when_done": when_done,
    }
    return enqueue(INTERACTION_KIND, f"{PLATFORM}:{team_id}:{where}", stored, interaction_dedup_key(key)) is not None


def interaction_dedup_key(key: str) -> str:
    """The work queue's key for the interaction Slack identifies by ``key``."""
    return f"{PLATFORM}:{key}"


def press_key(body: Mapping[str, Any], action: Mapping[str, Any]) -> str:
    """A button press's own id, the same in every delivery of it: when it was pressed, by whom, which button.
    Without an ``action_ts``, the interaction's trigger id (new for every press, repeated by a redelivery)."""
    user = (body.get("user") or {}).get("id", "")
    pressed = action.get("action_ts") or body.get("trigger_id") or (body.get("container") or {}).get("message_ts")
    return f"action:{user}:{action.get('action_id', '')}:{pressed or uuid.uuid4().hex}"


def submission_key(view: Mapping[str, Any]) -> str:
    """A submitted modal's own id: the view's id and its hash (a new hash for every version of the view)."""
    view_id, view_hash = view.get("id"), view.get("hash")
    if not view_id:
        return f"view:{uuid.uuid4().hex}"
    return f"view:{view_id}:{view_hash or ''}"


def event_key(body: Mapping[str, Any]) -> str:
    """An Events API delivery's event id (what a retry repeats); the same key the answers use."""
    return str(body.get("event_id") or f"event:{uuid.uuid4().hex}")


class _Stop(Exception):  # noqa: N818 - control flow, not an error
    """Leave the task here and tell the worker what to do with the work (wait for the channel, try later)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(type(outcome).__name__)
        self.outcome = outcome


class InteractionRun(Generic[SlackParts]):
    """One run of a task. Parts (messages, effects) are numbered in the order the task makes them, so a run
    after a crash or a wait skips what the earlier runs already did."""

    def __init__(
        self,
        slack: SlackParts,
        work: ClaimedWork,
        queue: WorkQueue,
        client: WebClient,
        http: httpx.Client,
        pacer: Callable[[str], float],
    ) -> None:
        self.slack = slack
        self.work = work
        self._pacer = pacer
        self._queue = queue
        self._client = client
        self._http = http
        self._progress: dict[str, Any] = dict(work.progress)
        self._progress.setdefault("steps", {})
        self._progress.setdefault("done", [])
        self._progress.setdefault("unknown", [])
        self._part = 0
        self._found: dict[tuple[str, str | None], set[int]] = {}

    # --- bookkeeping ----------------------------------------------------------------------------

    def _save(self) -> None:
        if not self._queue.save_progress(self.work, self._progress):
            # Another worker took this work over (our lease ran out): it carries on, we stop at once.
            log.warning("slack_interaction_lease_lost", work_id=self.work.id)
            raise _Stop(Done())

    def _next_part(self) -> int:
        self._part += 1
        return self._part

    def _done(self, part: int) -> bool:
        return part in self._progress["done"] or part in self._progress["unknown"]

    def _mark(self, part: int, outcome: str) -> None:
        self._progress["sending"] = None
        self._progress["unknown" if outcome == "unknown" else "done"].append(part)
        self._save()

    def _died_while_sending(self, part: int) -> bool:
        return self._progress.get("sending") == part

    # --- our own database ---------------------------------------------------------------------

    def step(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once for this work; its (JSON) result is kept, so a resumed run does not do it again."""
        steps: dict[str, Any] = self._progress["steps"]
        if name in steps:
            return steps[name]
        value = compute()
        steps[name] = value
        self._save()
        return value

    def replies(
        self,
        name: str,
        produce: Callable[[], Sequence[Reply]],
        *,
        native_feedback: bool = False,
        apologise: bool = False,
    ) -> Any:
        """The messages of the replies ``produce`` works out (once, like :meth:`step`). With ``apologise``, a
        failure becomes the apology, sent where the replies would have gone (in a thread, where the officer
        is looking)."""

        def work_out() -> list[dict[str, Any]]:
            try:
                return rendered(produce(), native_feedback=native_feedback)
            except Exception as error:
                if not apologise:
                    raise
                detail = str(error)[:300]
                log.error("slack_reply_failed", work_id=self.work.id, error=type(error).__name__, detail=detail)
                return rendered([Reply(SORRY, ReplyKind.PROBLEM)])

        return self.step(name, work_out)

    # --- Slack ---------------------------------------------------------------------------------

    def effect(self, call: Callable[[], Any]) -> None:
        """A call that is harmless to repeat (redrawing the App Home, editing a message): made until it works."""
        part = self._next_part()
        if self._done(part):
            return
        call()
        self._mark(part, "done")

    def once(self, what: str, call: Callable[[], Any]) -> None:
        """A call Slack cannot tell us about afterwards (a file upload): made at most once. If a run died while
        making it, it is logged rather than made again."""
        part = self._next_part()
        if self._done(part):
            return
        if self._died_while_sending(part):
            log.warning("slack_interaction_part_unconfirmed", work_id=self.work.id, part=part, what=what)
            self._mark(part, "unknown")
            return
        self._progress["sending"] = part
        self._save()
        call()
        self._mark(part, "done")

    def direct_message(self, user_id: str, messages: Sequence[Mapping[str, Any]]) -> None:
        """Post to the officer's direct messages with the app."""
        if not messages:
            return
        channel = str(self._client.conversations_open(users=user_id)["channel"]["id"])
        self.post(channel, messages)

    def post(self, channel: str, messages: Sequence[Mapping[str, Any]], thread_ts: str | None = None) -> None:
        """Post each message once (chat.postMessage), at the channel's pace."""
        for message in messages:
            self._post_part(self._next_part(), channel, thread_ts, message)

    def _post_part(self, part: int, channel: str, thread_ts: str | None, message: Mapping[str, Any]) -> None:
        if self._done(part):
            return
        # An earlier run may have posted this part without hearing back, or died while posting it.
        looked_for = self._progress.get("uncertain") or self._died_while_sending(part)
        if looked_for and part in self._already_posted(channel, thread_ts):
            log.info("slack_interaction_part_found", work_id=self.work.id, part=part)
            self._mark(part, "done")
            return
        wait = self._pacer(channel)
        if wait > 0:
            self._save()
            raise _Stop(Later(utc_now() + timedelta(seconds=wait), "paced", was_attempt=False))
        self._progress["sending"] = part  # marked first: after a crash, the next run looks before posting
        self._save()
        try:
            post_tagged(self._client, self.work, part, channel, thread_ts, message)
        except SlackApiError as error:
            status = error.response.status_code
            code = str(error.response.get("error") or "")
            if status == 429 or code == "ratelimited":
                self._wait_out(error)
            if status >= 500 or code in RETRYABLE_ERRORS:
                self._uncertain(part, code or str(status))
            raise  # refused for good: the task fails and the officer gets the apology
        except (httpx.HTTPError, OSError) as error:  # a timeout or dropped connection: Slack may have posted it
            self._uncertain(part, type(error).__name__)
        self._mark(part, "done")

    def _wait_out(self, error: SlackApiError) -> None:
        self._progress["sending"] = None
        self._save()
        wait = retry_after_seconds(getattr(error.response, "headers", {}) or {})
        later = Later(utc_now() + timedelta(seconds=wait), "rate_limited", hold_channel=True, was_attempt=False)
        raise _Stop(later)

    def _uncertain(self, part: int, reason: str) -> None:
        log.warning("slack_post_uncertain", work_id=self.work.id, part=part, error=reason)
        self._progress["uncertain"] = True
        self._save()
        raise _Stop(Later(utc_now() + retry_delay(self.work.attempts), "uncertain"))

    def _already_posted(self, channel: str, thread_ts: str | None) -> set[int]:
        """The parts of this work Slack already has in the thread (or channel), found by their metadata."""
        where = (channel, thread_ts)
        if where in self._found:
            return self._found[where]
        parts = tagged_parts(self._client, self.work, channel, thread_ts)
        self._found[where] = parts
        return parts

    def respond(self, url: str, messages: Sequence[Mapping[str, Any]], *, replace_original: bool = False) -> None:
        """Answer through a ``response_url`` (only the officer sees it); the first message may replace the one
        whose button was pressed. Each part at most once: one whose outcome is unknown is logged, not re-sent."""
        for index, message in enumerate(messages):
            body = {**message, "response_type": "ephemeral", "replace_original": replace_original and index == 0}
            self._respond_part(self._next_part(), url, body)

    def _respond_part(self, part: int, url: str, body: Mapping[str, Any]) -> None:
        if self._done(part):
            return
        if self._died_while_sending(part):
            log.warning("slack_interaction_part_unconfirmed", work_id=self.work.id, part=part, what="response_url")
            self._mark(part, "unknown")
            return
        self._progress["sending"] = part
        self._save()
        result = post_response(self._http, url, body)
        if result.outcome is ResponseOutcome.UNKNOWN:
            log.warning("slack_interaction_part_unconfirmed", work_id=self.work.id, part=part, what=result.reason)
            self._mark(part, "unknown")
            return
        if result.outcome is ResponseOutcome.REFUSED:
            raise RuntimeError(f"slack refused the response: {result.reason}")
        if result.outcome is not ResponseOutcome.POSTED:
            # Slack did not take it: try again later, or after its Retry-After.
            log.warning("slack_interaction_response_failed", work_id=self.work.id, part=part, reason=result.reason)
            self._progress["sending"] = None
            self._save()
            if result.outcome is ResponseOutcome.WAIT:
                at = utc_now() + timedelta(seconds=result.wait)
                raise _Stop(Later(at, "rate_limited", hold_channel=True, was_attempt=False))
            raise _Stop(Later(utc_now() + retry_delay(self.work.attempts), result.reason))
        self._mark(part, "done")

    def send(self, to: Mapping[str, Any], messages: Sequence[Mapping[str, Any]], *, part: int | None = None) -> None:
        """Send to where ``to`` names: ``{"channel", "thread_ts"}``, ``{"user"}`` or ``{"response_url"}``."""
        if part is not None:
            self._part = part - 1
        if to.get("response_url"):
            self.respond(str(to["response_url"]), messages)
        elif to.get("channel"):
            self.post(str(to["channel"]), messages, to.get("thread_ts"))
        elif to.get("user"):
            self.direct_message(str(to["user"]), messages)


@interaction_task(SEND_TASK)
def send_stored_messages(run: InteractionRun[Any], payload: dict[str, Any]) -> None:
    """Messages worked out in the listener (before the acknowledgement), sent where the listener said."""
    run.send(payload["to"], payload["messages"])


def send_later(
    slack: Any,
    key: str,
    team_id: str,
    to: Mapping[str, Any],
    replies: Sequence[Reply],
    *,
    private: bool = False,
) -> bool:
    """Store replies already worked out, to be sent once after the acknowledgement (see :func:`queue_interaction`).

    ``private``: the messages carry a secret (the key to change an anonymous answer); once sent, the work is
    deleted, so the queue does not link the person to the secret."""
    where = str(to.get("channel") or to.get("user") or "response")
    payload = {"to": dict(to), "messages": rendered(replies)}
    when_done = FORGET if private else None
    return bool(slack.queue_interaction(SEND_TASK, payload, key=key, team_id=team_id, where=where, when_done=when_done))


class SlackInteractionWork:
    """The worker's side: run the stored task; on failure, the officer gets the apology once."""

    def __init__(
        self,
        slack: Any,
        client: WebClient,
        next_turn: Callable[[str], float],
        http: httpx.Client | None = None,
    ) -> None:
        """``slack`` is what tasks see as ``run.slack``; ``next_turn(channel)`` is how many seconds until the
        channel may have another message (0 takes the turn)."""
        self._slack = slack
        self._client = client
        self._next_turn = next_turn
        # No retries of its own: the queue decides when to try again, and never re-sends an unknown outcome.
        self._http = http or httpx.Client(timeout=POST_TIMEOUT_SECONDS)

    def __call__(self, work: ClaimedWork, queue: WorkQueue) -> Outcome:
        name = str(work.payload.get("task"))
        task = _TASKS.get(name)
        if task is None:
            log.error("slack_interaction_unknown_task", work_id=work.id, task=name)
            return GiveUp(f"no Slack task named {name}")
        run: InteractionRun[Any] = InteractionRun(self._slack, work, queue, self._client, self._http, self._next_turn)
        try:
            task(run, work.payload)
        except _Stop as stop:
            return stop.outcome
        except Exception as error:  # noqa: BLE001 - the officer gets a plain message; operators get the log
            detail = f"{type(error).__name__}: {str(error)[:200]}"
            log.error("slack_work_failed", work_id=work.id, task=name, detail=detail)
            return self._apologise(run, work, name, detail)
        after = work.payload.get("when_done")
        if after == FORGET:
            return Done(forget=True)
        return Done(kept={"task": name}) if after == REDACT else Done()

    def _apologise(self, run: InteractionRun[Any], work: ClaimedWork, name: str, detail: str) -> Outcome:
        apology = work.payload.get("apology")
        if apology:
            try:
                run.send(apology, rendered([Reply(SORRY, ReplyKind.PROBLEM)]), part=APOLOGY_PART)
            except _Stop as stop:
                if isinstance(stop.outcome, Later):
                    return stop.outcome  # the apology waits its turn (or Retry-After) like any message
            except Exception as apology_error:  # noqa: BLE001 - Slack itself may be what failed
                log.warning("slack_apology_failed", work_id=work.id, task=name, error=type(apology_error).__name__)
        return GiveUp(f"{name}: {detail}", kept={"task": name} if work.payload.get("when_done") else None)
