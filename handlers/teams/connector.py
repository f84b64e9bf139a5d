"""The Bot Framework Connector REST API: the only way the bot speaks in Teams.

- ``POST {serviceUrl}/v3/conversations/{id}/activities[/{replyToId}]`` posts a message;
- ``PUT  {serviceUrl}/v3/conversations/{id}/activities/{activityId}`` replaces one (a card after a press);
- ``POST {serviceUrl}/v3/conversations`` opens (or finds) the 1:1 chat with a user, for proactive messages;
- ``GET  {serviceUrl}/v3/conversations/{id}/members/{userId}`` reads a member's email and UPN.

Retries never post a message twice. The Connector has no idempotency key (it
ignores an activity id chosen by the client), so a POST that creates a message
is retried only when the answer proves nothing was created:

- 429 (throttled) and 412 (conversation busy) are refused before the message is
  made: retried with exponential backoff and jitter, honouring ``Retry-After``;
- a connection that never opened: retried;
- 502/504 and a timeout after the request was sent are *ambiguous*: the gateway
  may have delivered it. Posting again could show the officer the same reminder
  twice, so a message POST raises :class:`DeliveryUncertainError` instead and the
  caller (the nudge ledger, the feedback reminders) records it as unconfirmed.
  Requests that are safe to repeat (PUT of the same content, GET, opening a 1:1
  chat, which returns the existing one) are retried on 502/504 as well.

A 401 means our cached token was refused (rotated secret): the token is fetched
again once. A 403 means the user blocked or removed the app:
:class:`ConversationForbiddenError`, which the caller turns into "unreachable".
Sends are paced to about seven per second per conversation, Teams' limit.

Those retries and that pacing wait in the calling thread. Work from the durable queue (replies to
activities, ``handlers/teams/delivery.py``) passes ``patient=False`` instead: one attempt, no sleeping.
It asks :meth:`ConnectorClient.next_turn` for its turn first and, when throttled or refused, gets the
error (with the ``Retry-After`` it carried) and puts the work back in the queue until then, so a
throttled conversation never holds a worker thread.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import structlog

from handlers.teams.auth import host_allowed
from handlers.teams.constants import MESSAGES_PER_SECOND_PER_CONVERSATION
from handlers.teams.settings import TeamsSettings
from handlers.teams.token import BotTokenProvider
from handlers.teams.transport import http_client

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 8.0
# A Retry-After longer than this is not waited for inside a request: the caller's own retry takes over.
MAX_RETRY_AFTER_SECONDS = 30.0

# Answers that mean "slow down, then send it again".
THROTTLED = {429, 412}
_AMBIGUOUS = {502, 504}


class ConnectorError(RuntimeError):
    def __init__(
        self, message: str, status: int | None = None, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        # Set when Teams was still throttling after our retries: how long it asked us to wait.
        self.retry_after = retry_after


class ConversationForbiddenError(ConnectorError):
    """403: the user blocked the bot, uninstalled the app, or left the tenant."""


class DeliveryUncertainError(ConnectorError):
    """The Connector may or may not have posted the message (502/504, or a timeout after sending)."""


class ServiceUrlNotAllowedError(ConnectorError):
    """A stored or received service URL is not on TEAMS_ALLOWED_SERVICE_URL_HOSTS: the bot's token stays home."""


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    body: Mapping[str, Any] | None
    creates_message: bool
    conversation: str | None  # paced per conversation when set


class ConversationPacer:
    """Spaces sends to one conversation by 1/rate seconds, across threads."""

    def __init__(
        self,
        rate: float = MESSAGES_PER_SECOND_PER_CONVERSATION,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, conversation: str) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(conversation, now))
            self._next[conversation] = slot + self._interval
            if len(self._next) > 10_000:
                # Forget conversations whose slots are in the past; they would start fresh anyway.
                self._next = {key: at for key, at in self._next.items() if at > now}
        if slot > now:
            self._sleep(slot - now)

    def next_turn(self, conversation: str) -> float:
        """Take the conversation's next slot if it is free now (0.0); otherwise how many seconds until it is,
        without taking it (the caller comes back then instead of sleeping)."""
        with self._lock:
            now = self._clock()
            slot = self._next.get(conversation, now)
            if slot > now:
                return slot - now
            self._next[conversation] = now + self._interval
            return 0.0


class ConnectorClient:
    def __init__(
        self,
        settings: TeamsSettings,
        tokens: BotTokenProvider,
        *,
        client: httpx.Client | None = None,
        pacer: ConversationPacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._tokens = tokens
        self._allowed_hosts = list(settings.allowed_service_url_hosts)
        self._http = client or http_client(settings)
        self._pacer = pacer or ConversationPacer(sleep=sleep)
        self._sleep = sleep
        self._jitter = jitter

    # --- the API ------------------------------------------------------------------

    def next_turn(self, conversation_id: str) -> float:
        """0.0 when a message may go to the conversation now (the turn is taken), else the seconds to wait."""
        return self._pacer.next_turn(conversation_id)

    def send(
        self,
        service_url: str,
        conversation_id: str,
        activity: Mapping[str, Any],
        reply_to_id: str | None = None,
        *,
        patient: bool = True,
    ) -> str | None:
        """Post a message; returns the id the Connector gave it. ``patient=False``: one attempt, no waiting (see
        the module's docstring)."""
        path = f"/v3/conversations/{_segment(conversation_id)}/activities"
        if reply_to_id:
            path += f"/{_segment(reply_to_id)}"
        body = dict(activity)
        if reply_to_id:
            body.setdefault("replyToId", reply_to_id)
        data = self._call(_Call("POST", self._url(service_url, path), body, True, conversation_id), patient)
        return str(data["id"]) if isinstance(data, dict) and data.get("id") else None

    def update(
        self,
        service_url: str,
        conversation_id: str,
        activity_id: str,
        activity: Mapping[str, Any],
        *,
        patient: bool = True,
    ) -> None:
        """Replace a message the bot sent (a card after one of its buttons was pressed)."""
        path = f"/v3/conversations/{_segment(conversation_id)}/activities/{_segment(activity_id)}"
        body = {**activity, "id": activity_id}
        self._call(_Call("PUT", self._url(service_url, path), body, False, conversation_id), patient)

    def create_personal_conversation(self, service_url: str, *, bot_id: str, user_id: str, tenant_id: str) -> str:
        """The 1:1 chat between the bot and a user; Teams returns the existing one when there is one."""
        body = {
            "isGroup": False,
            "bot": {"id": bot_id},
            "members": [{"id": user_id}],
            "tenantId": tenant_id,
            "channelData": {"tenant": {"id": tenant_id}},
        }
        data = self._call(_Call("POST", self._url(service_url, "/v3/conversations"), body, False, None))
        if not isinstance(data, dict) or not data.get("id"):
            raise ConnectorError("the Connector opened a conversation but sent back no id")
        return str(data["id"])

    def get_member(self, service_url: str, conversation_id: str, member_id: str) -> dict[str, Any] | None:
        """A member's details (name, email, userPrincipalName, aadObjectId), or None when Teams has none."""
        path = f"/v3/conversations/{_segment(conversation_id)}/members/{_segment(member_id)}"
        try:
            data = self._call(_Call("GET", self._url(service_url, path), None, False, None))
        except ConnectorError as error:
            if error.status == 404:
                return None
            raise
        return data if isinstance(data, dict) else None

    def close(self) -> None:
        self._http.close()

    # --- one request, with the retry rules above ----------------------------------------------

    def _url(self, service_url: str, path: str) -> str:
        parts = urlsplit(service_url)
        if parts.scheme != "https" or not parts.hostname or not host_allowed(parts.hostname, self._allowed_hosts):
            raise ServiceUrlNotAllowedError(f"service URL host {parts.hostname!r} is not allowed")
        return service_url.rstrip("/") + path

    def _call(self, call: _Call, patient: bool = True) -> Any:
        """The request, retried by the rules above; ``patient=False``: one attempt (and one fresh token), the
        caller having taken its turn with :meth:`next_turn`."""
        delivery = uuid.uuid4().hex[:12]  # ties the log lines of one delivery's attempts together
        refreshed_token = False
        attempt = 0
        while True:
            attempt += 1
            # An impatient call's one attempt counts as the last: a failure is raised rather than backed off.
            response = self._attempt(call, attempt if patient else MAX_ATTEMPTS, delivery, paced=patient)
            if response is None:  # nothing usable came back, and it is safe to try again
                continue
            status = response.status_code
            if status < 300:
                log.info("teams_connector_ok", method=call.method, status=status, attempts=attempt, delivery=delivery)
                return _json(response)
            if status == 401 and not refreshed_token:
                # A refused token is refused before anything is created; fetch a fresh one once.
                refreshed_token = True
                self._tokens.invalidate()
                continue
            if patient and self._backed_off(response, call, attempt, delivery):
                continue
            raise _failure(response, call, delivery)

    def _attempt(self, call: _Call, attempt: int, delivery: str, *, paced: bool = True) -> httpx.Response | None:
        """One request. None when it failed in a way that may be retried (after backing off); raises when not."""
        if paced and call.conversation is not None:
            # Posts and edits alike count towards Teams' per-conversation limit.
            self._pacer.wait(call.conversation)
        headers = {"Authorization": f"Bearer {self._tokens.token()}"}
        try:
            return self._http.request(call.method, call.url, json=call.body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            # Nothing reached the Connector: always safe to try again.
            if attempt < MAX_ATTEMPTS:
                self._back_off(attempt, None, call, delivery, type(error).__name__)
                return None
            raise ConnectorError(f"could not reach the Connector ({type(error).__name__})") from error
        except httpx.TransportError as error:
            if not call.creates_message and attempt < MAX_ATTEMPTS:
                self._back_off(attempt, None, call, delivery, type(error).__name__)
                return None
            if call.creates_message:
                raise DeliveryUncertainError(
                    f"no answer from the Connector after sending ({type(error).__name__})"
                ) from error
            raise ConnectorError(f"the Connector did not answer ({type(error).__name__})") from error

    def _backed_off(self, response: httpx.Response, call: _Call, attempt: int, delivery: str) -> bool:
        """Wait before the next attempt when the answer says to try again (throttled, or a gateway error on a
        request that creates nothing) and the wait asked for is not too long. False when it should not be retried."""
        status = response.status_code
        retryable = status in THROTTLED or (status in _AMBIGUOUS and not call.creates_message)
        if not retryable or attempt >= MAX_ATTEMPTS:
            return False
        retry_after = _retry_after(response)
        if retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS:
            return False
        self._back_off(attempt, retry_after, call, delivery, str(status))
        return True

    def _back_off(self, attempt: int, retry_after: float | None, call: _Call, delivery: str, why: str) -> None:
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        # Jitter spreads the retries of many senders throttled at the same moment.
        delay = ceiling * (0.5 + self._jitter() / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        log.warning(
            "teams_connector_retry",
            method=call.method,
            reason=why,
            attempt=attempt,
            delay=round(delay, 3),
            delivery=delivery,
        )
        self._sleep(delay)


def _failure(response: httpx.Response, call: _Call, delivery: str) -> ConnectorError:
    """The error for an answer that will not be retried."""
    status = response.status_code
    code, message = _error_of(response)
    if status == 403:
        return ConversationForbiddenError(message or "the user can't be messaged", status, code)
    if status in _AMBIGUOUS and call.creates_message:
        log.warning("teams_delivery_uncertain", status=status, delivery=delivery)
        return DeliveryUncertainError(
            f"the Connector answered {status}; the message may have been posted", status, code
        )
    throttled_for = (_retry_after(response) or BACKOFF_CAP_SECONDS) if status in THROTTLED else None
    return ConnectorError(
        f"the Connector answered {status}: {message or code or 'no detail'}", status, code, throttled_for
    )


def _segment(value: str) -> str:
    return quote(value, safe="")


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _error_of(response: httpx.Response) -> tuple[str | None, str | None]:
    data = _json(response)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        return error.get("code"), error.get("message")
    return None, None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
