"""Loopback stand-ins that speak the real wire protocols, over HTTPS with the test CA.

- :class:`FakeEntra`: the tenant's OpenID configuration and the OAuth 2.0 token
  endpoint (client credentials), refusing a wrong client id, secret, grant or scope;
- :class:`FakeChannel`: the Bot Framework channel's OpenID metadata and JWKS
  (keys with endorsements), and :meth:`FakeChannel.mint` for the bearer token the
  channel puts on each activity it POSTs to the bot;
- :class:`FakeConnector`: the Connector REST API, recording every activity,
  refusing requests without a token Entra issued, cards above version 1.5 or
  over Teams' size limit, and answering scripted 429/403/5xx when told to: to the next request of any
  kind (:meth:`FakeConnector.fail_next`), or to the next messages posted in one conversation
  (:meth:`FakeConnector.script`: an error instead of posting it, or posting it and then dropping the
  connection or holding the answer back), or to every message in a throttled conversation.

One module (over 400 lines) because the three share one loopback HTTPS server
and one test PKI, and the token Entra issues is the one the connector checks.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.loopback import DROP_CONNECTION, LoopbackServer, Reply, Request
from tests.teams.pki import TestPKI

Handler = Callable[[Request], "Answer"]


def card_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a card (or any JSON), in document order: the card's elements, actions and inputs."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from card_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from card_nodes(value)


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class HttpsFake(LoopbackServer):
    """A threaded HTTPS server on a free loopback port; subclasses answer JSON in :meth:`route`."""

    def __init__(self, pki: TestPKI) -> None:
        super().__init__(pki)

    def respond(self, request: Request) -> Reply:
        answer = self.route(request)
        payload = b"" if answer.body is None else json.dumps(answer.body).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if payload else {}
        return Reply(answer.status, payload, {**answer.headers, **headers})

    def route(self, request: Request) -> Answer:  # type: ignore[override]
        raise NotImplementedError


# --- Entra ID -------------------------------------------------------------------------------------


class FakeEntra(HttpsFake):
    def __init__(self, pki: TestPKI, *, tenant_id: str, client_id: str, client_secret: str, scope: str) -> None:
        super().__init__(pki)
        self.tenant_id, self.client_id, self.client_secret, self.scope = tenant_id, client_id, client_secret, scope
        self.issued: set[str] = set()
        self.token_requests = 0
        self.lock = threading.Lock()

    def route(self, request: Request) -> Answer:
        base = f"/{self.tenant_id}"
        path = urlsplit(request.path).path
        if request.method == "GET" and path == f"{base}/v2.0/.well-known/openid-configuration":
            root = f"{self.base_url}{base}"
            return Answer(
                body={
                    "issuer": f"{root}/v2.0",
                    "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{root}/oauth2/v2.0/token",
                    "jwks_uri": f"{root}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "token"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                }
            )
        if request.method == "POST" and path == f"{base}/oauth2/v2.0/token":
            form = request.form()
            with self.lock:
                self.token_requests += 1
            if form.get("grant_type") != "client_credentials":
                return Answer(400, {"error": "unsupported_grant_type"})
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return Answer(
                    401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}
                )
            if form.get("scope") != self.scope:
                return Answer(400, {"error": "invalid_scope"})
            token = "entra-" + secrets.token_urlsafe(24)
            with self.lock:
                self.issued.add(token)
            return Answer(
                body={"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
            )
        return Answer(404, {"error": "not_found"})

    def revoke_all(self) -> None:
        with self.lock:
            self.issued.clear()


# --- the Bot Framework channel's keys and tokens ---------------------------------------------------


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey
    endorsements: list[str]

    def jwk(self) -> dict[str, Any]:
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "use": "sig", "endorsements": self.endorsements}


class FakeChannel(HttpsFake):
    ISSUER = "https://api.botframework.com"

    def __init__(self, pki: TestPKI) -> None:
        super().__init__(pki)
        self.keys = [
            SigningKey(
                "teams-key", rsa.generate_private_key(public_exponent=65537, key_size=2048), ["msteams", "webchat"]
            ),
            SigningKey("webchat-only", rsa.generate_private_key(public_exponent=65537, key_size=2048), ["webchat"]),
        ]
        self.metadata_requests = 0
        self.key_requests = 0

    def route(self, request: Request) -> Answer:
        path = urlsplit(request.path).path
        if path == "/v1/.well-known/openidconfiguration":
            self.metadata_requests += 1
            return Answer(
                body={
                    "issuer": self.ISSUER,
                    "authorization_endpoint": "https://invalid.botframework.com",
                    "jwks_uri": f"{self.base_url}/v1/.well-known/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                }
            )
        if path == "/v1/.well-known/keys":
            self.key_requests += 1
            return Answer(body={"keys": [key.jwk() for key in self.keys]})
        return Answer(404)

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    def add_key(self, kid: str, endorsements: list[str]) -> SigningKey:
        key = SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), endorsements)
        self.keys.append(key)
        return key

    def mint(
        self,
        *,
        audience: str,
        service_url: str | None,
        kid: str = "teams-key",
        issuer: str | None = None,
        expires_in: int = 3600,
        not_before: int | None = None,
        signer: rsa.RSAPrivateKey | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        key = next(k for k in self.keys if k.kid == kid)
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer or self.ISSUER,
            "aud": audience,
            "iat": now - 10,
            "nbf": now - 10 if not_before is None else not_before,
            "exp": now + expires_in,
            "appid": "channel-app",
        }
        if service_url is not None:
            payload["serviceurl"] = service_url
        payload.update(claims or {})
        return jwt.encode(payload, signer or key.private, algorithm="RS256", headers={"kid": kid})


# --- the Connector ------------------------------------------------------------------------------

MAX_ACTIVITY_BYTES = 28 * 1024  # Teams refuses larger messages (413)


@dataclass
class Posted:
    method: str
    conversation_id: str
    body: dict[str, Any]
    reply_to_id: str | None = None
    activity_id: str | None = None

    @property
    def card(self) -> dict[str, Any] | None:
        for item in self.body.get("attachments") or []:
            if item.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return item["content"]
        return None

    @property
    def all_text(self) -> str:
        """The message's words, card text blocks included, for assertions."""
        blocks = [node.get("text", "") for node in card_nodes(self.card) if node.get("type") == "TextBlock"]
        return "\n".join([self.body.get("text") or "", *blocks])


class Accept:
    """A scripted step for one posted message: post it, then answer normally (``Accept()``), drop the
    connection without answering (``Accept(drop=True)``: the bot cannot know it was posted), or hold the answer
    back until :meth:`release` (``Accept(hold=True)``: the bot is still waiting when it is stopped)."""

    def __init__(self, *, drop: bool = False, hold: bool = False) -> None:
        self.drop = drop
        self.hold = hold
        self.posted = threading.Event()  # set once the message is posted
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def answer(self, activity_id: str) -> Answer:
        self.posted.set()
        if self.drop:
            return Answer(DROP_CONNECTION)
        if self.hold:
            self._released.wait(30)
        return Answer(201, {"id": activity_id})


@dataclass
class Member:
    id: str
    aad_object_id: str
    name: str
    email: str


class FakeConnector(HttpsFake):
    def __init__(self, pki: TestPKI, entra: FakeEntra) -> None:
        super().__init__(pki)
        self.entra = entra
        self.posted: list[Posted] = []
        self.requests: list[tuple[str, str, int]] = []  # method, path, status answered
        self.members: dict[str, Member] = {}
        self.personal_chats: dict[str, str] = {}  # user id -> conversation id
        self.blocked_users: set[str] = set()
        self._script: list[Answer] = []
        self._scripts: dict[str, list[Answer | Accept]] = {}  # conversation id -> the next posts' fate
        self.throttled: dict[str, str] = {}  # conversation id -> Retry-After, answered to every post there
        self.lock = threading.RLock()  # re-entered by the conditions wait_until checks
        self.changed = threading.Condition(self.lock)

    @property
    def service_url(self) -> str:
        return f"{self.base_url}/amer/"

    def add_member(self, member: Member) -> None:
        self.members[member.id] = member

    def fail_next(self, *answers: Answer) -> None:
        with self.lock:
            self._script.extend(answers)

    def script(self, conversation: str, *steps: Answer | Accept) -> None:
        """What happens to the next messages posted in ``conversation``, one step each: an :class:`Answer`
        instead of posting it, or an :class:`Accept`."""
        with self.lock:
            self._scripts.setdefault(conversation, []).extend(steps)

    def throttle(self, conversation: str, retry_after: str) -> None:
        """Answer 429 with ``Retry-After`` to every message posted in ``conversation`` until :meth:`unthrottle`."""
        with self.lock:
            self.throttled[conversation] = retry_after

    def unthrottle(self, conversation: str) -> None:
        with self.lock:
            self.throttled.pop(conversation, None)

    def answered(self, conversation: str, method: str = "POST") -> list[int]:
        """The statuses answered to ``method`` requests on the conversation's activities, in order
        (0: the connection was dropped)."""
        prefix = f"/amer/v3/conversations/{quote(conversation, safe='')}/activities"
        with self.lock:
            return [status for m, path, status in self.requests if m == method and path.startswith(prefix)]

    def wait_until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        """Wait until ``condition`` (read under the fake's lock) holds, re-checked after every request."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("the Connector never saw what the test waited for")
                self.changed.wait(remaining)

    def route(self, request: Request) -> Answer:
        answer = self._route(request)
        with self.changed:
            self.requests.append((request.method, urlsplit(request.path).path, answer.status))
            self.changed.notify_all()
        return answer

    def _route(self, request: Request) -> Answer:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.entra.issued:
            return Answer(401, {"error": {"code": "Unauthorized", "message": "Authorization has been denied"}})
        path = urlsplit(request.path).path
        match = re.fullmatch(r"/amer/v3/conversations(?:/([^/]+)(?:/(activities|members)(?:/([^/]+))?)?)?", path)
        if match is None:
            return Answer(404, {"error": {"code": "NotFound", "message": "no such resource"}})
        with self.lock:
            if self._script:
                return self._script.pop(0)
        conversation, collection, item = (unquote(p) if p else None for p in match.groups())
        if conversation is None and request.method == "POST":
            return self._create_conversation(request.json())
        if collection == "members" and request.method == "GET" and item:
            member = self.members.get(item)
            if member is None:
                return Answer(404, {"error": {"code": "MemberNotFoundInConversation", "message": "not a member"}})
            return Answer(
                body={
                    "id": member.id,
                    "aadObjectId": member.aad_object_id,
                    "name": member.name,
                    "email": member.email,
                    "userPrincipalName": member.email,
                    "userRole": "user",
                }
            )
        if collection == "activities" and request.method in ("POST", "PUT"):
            return self._activity(request, conversation or "", item)
        return Answer(405, {"error": {"code": "BadRequest", "message": "method not allowed"}})

    def _create_conversation(self, body: dict[str, Any]) -> Answer:
        members = body.get("members") or []
        if body.get("isGroup") or len(members) != 1 or not body.get("bot") or not body.get("tenantId"):
            return Answer(
                400, {"error": {"code": "BadArgument", "message": "a 1:1 chat needs one member, a bot and a tenant"}}
            )
        user = members[0]["id"]
        if user in self.blocked_users:
            return Answer(
                403,
                {
                    "error": {
                        "code": "ConversationBlockedByUser",
                        "message": "User blocked the conversation with the bot.",
                    }
                },
            )
        with self.lock:
            conversation = self.personal_chats.setdefault(user, f"a:{uuid.uuid4().hex}")
        return Answer(201, {"id": conversation})

    def _activity(self, request: Request, conversation: str, item: str | None) -> Answer:
        if len(request.body) > MAX_ACTIVITY_BYTES:
            return Answer(413, {"error": {"code": "MessageSizeTooBig", "message": "Message size too large"}})
        body = request.json()
        if not isinstance(body, dict) or body.get("type") != "message":
            return Answer(400, {"error": {"code": "BadArgument", "message": "Unknown activity type"}})
        for attachment in body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                version = str((attachment.get("content") or {}).get("version", "0"))
                if tuple(int(p) for p in version.split(".")) > (1, 5):
                    return Answer(
                        400, {"error": {"code": "BadArgument", "message": f"card version {version} not supported"}}
                    )
        if any(chat == conversation for user, chat in self.personal_chats.items() if user in self.blocked_users):
            return Answer(
                403,
                {
                    "error": {
                        "code": "ConversationBlockedByUser",
                        "message": "User blocked the conversation with the bot.",
                    }
                },
            )
        step: Answer | Accept | None = None
        if request.method == "POST":
            with self.lock:
                if conversation in self.throttled:
                    wait = self.throttled[conversation]
                    return Answer(429, {"error": {"code": "Throttled", "message": "slow down"}}, {"Retry-After": wait})
                steps = self._scripts.get(conversation)
                step = steps.pop(0) if steps else None
            if isinstance(step, Answer):
                return step
        activity_id = item if request.method == "PUT" else f"1:{uuid.uuid4().hex[:16]}"
        with self.changed:
            self.posted.append(
                Posted(
                    request.method,
                    conversation,
                    body,
                    reply_to_id=item if request.method == "POST" else None,
                    activity_id=activity_id,
                )
            )
            self.changed.notify_all()
        if isinstance(step, Accept):
            return step.answer(activity_id)
        return Answer(200 if request.method == "PUT" else 201, {"id": activity_id})

    # --- for assertions ----------------------------------------------------------------------

    def wait_for(self, count: int, conversation: str | None = None, timeout: float = 20.0) -> list[Posted]:
        """Wait until ``count`` activities have been posted (to ``conversation``, when given)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [p for p in self.posted if conversation is None or p.conversation_id == conversation]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} activities, the Connector got {len(found)}: "
                        f"{[p.all_text[:80] for p in found]}"
                    )
                self.changed.wait(remaining)

    def posted_to(self, conversation: str) -> list[Posted]:
        with self.lock:
            return [p for p in self.posted if p.conversation_id == conversation]
