"""A fake Slack Web API on loopback: a real HTTP server that records every call and refuses what Slack refuses.

Point the product's ``SLACK_API_URL`` at ``fake.api_url``. It answers the
methods the app uses the way Slack does (``{"ok": true, ...}`` or
``{"ok": false, "error": ...}``), keeps the bot's messages so ``chat.update``
can find them, and refuses: an unknown method, a bad token, more than 50 blocks
in a message or 100 in a view, a section over 3,000 characters, a button label
over 75, duplicate action ids in a block, ``private_metadata`` over 3,000
characters, a modal title over 24, and a ``trigger_id`` that is unknown or
older than three seconds. ``fail_next`` makes the next call to a method fail
(an error, or a 429 with ``Retry-After``), for one channel only if asked, and can
make it fail after taking effect (a 5xx after the message was posted). Messages
keep their ``metadata``, which ``conversations.history`` and ``conversations.replies``
return with ``include_all_metadata``. ``response_url`` posts (slash
commands, buttons) land on ``/response/<id>`` and are recorded as calls to
``response_url``.

One module (over 400 lines) because it is one fake service: every refusal Slack
makes sits next to the method that makes it, where a reader looks for it.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

BOT_TOKEN = "xoxb-1111-2222-fake-bot-token"
APP_TOKEN = "xapp-1-A1-3333-fake-app-token"
TEAM_ID = "T0COUNCIL"
BOT_USER_ID = "U0COMMBOT1"
BOT_ID = "B0COMMBOT1"
TRIGGER_SECONDS = 3.0

MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"}
VIEW_METHODS = {"views.open", "views.update", "views.push", "views.publish"}
KNOWN_METHODS = (
    MESSAGE_METHODS
    | VIEW_METHODS
    | {
        "auth.test",
        "conversations.open",
        "users.info",
        "users.lookupByEmail",
        "apps.connections.open",
        "assistant.threads.setStatus",
        "assistant.threads.setSuggestedPrompts",
        "assistant.threads.setTitle",
        "conversations.history",
        "conversations.replies",
    }
)
MAX_SUGGESTED_PROMPTS = 4


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    ok: bool = True
    error: str | None = None


@dataclass
class Failure:
    error: str
    status: int = 200
    retry_after: int | None = None
    after_effect: bool = False  # do what was asked, then answer with the failure (Slack's ambiguous 5xx)
    channel: str | None = None  # only calls for this channel fail


@dataclass
class SlackUser:
    id: str
    name: str
    email: str
    tz: str = "Europe/London"
    is_bot: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.email.split("@")[0],
            "real_name": self.name,
            "tz": self.tz,
            "is_bot": self.is_bot,
            "deleted": False,
            "profile": {"real_name": self.name, "display_name": self.name.split()[0], "email": self.email},
        }


class BlockKitError(ValueError):
    pass


def check_blocks(blocks: list[dict[str, Any]], limit: int) -> None:
    if len(blocks) > limit:
        raise BlockKitError(f"more than {limit} blocks")
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            text = (block.get("text") or {}).get("text", "")
            if len(text) > 3000:
                raise BlockKitError("section text over 3000 characters")
        if kind == "header" and len(block["text"]["text"]) > 150:
            raise BlockKitError("header over 150 characters")
        if kind == "input" and not block.get("label"):
            raise BlockKitError("input block without a label")
        elements = block.get("elements") or []
        if kind == "actions":
            if len(elements) > 25:
                raise BlockKitError("more than 25 elements in an actions block")
            ids = [e.get("action_id") for e in elements]
            if len(ids) != len(set(ids)):
                raise BlockKitError("duplicate action_id in a block")
            for element in elements:
                if element.get("type") == "button":
                    if len(element["text"]["text"]) > 75:
                        raise BlockKitError("button text over 75 characters")
                    if "value" in element and not 0 < len(element["value"]) <= 2000:
                        raise BlockKitError("button value must be 1 to 2000 characters")
        if kind == "context" and len(elements) > 10:
            raise BlockKitError("more than 10 context elements")
        if kind == "context_actions":
            if not 0 < len(elements) <= 5:
                raise BlockKitError("a context_actions block takes 1 to 5 elements")
            for element in elements:
                if element.get("type") not in {"feedback_buttons", "icon_button"}:
                    raise BlockKitError("context_actions takes only feedback_buttons and icon_button")
                if element["type"] == "feedback_buttons":
                    for side in ("positive_button", "negative_button"):
                        button = element.get(side) or {}
                        if not (button.get("text") or {}).get("text") or not button.get("value"):
                            raise BlockKitError(f"feedback_buttons needs a {side} with text and a value")
                        if len(button.get("accessibility_label", "")) > 75:
                            raise BlockKitError("accessibility_label over 75 characters")


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, SlackUser] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.socket_url: str | None = None
        self._failures: dict[str, list[Failure]] = {}
        self._triggers: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True)

    # --- life ------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self) -> str:
        return f"{self.url}/response/{next(self._ids)}"

    # --- arranging ---------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, email: str, tz: str = "Europe/London") -> SlackUser:
        user = SlackUser(user_id, name, email, tz)
        self.users[user_id] = user
        return user

    def new_trigger_id(self, age_seconds: float = 0.0) -> str:
        trigger = f"{next(self._ids)}.{int(time.time())}.fake"
        self._triggers[trigger] = time.monotonic() - age_seconds
        return trigger

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        status: int = 200,
        retry_after: int | None = None,
        *,
        after_effect: bool = False,
        channel: str | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls to ``method`` (for ``channel``, when given) fail; with ``after_effect`` the call
        takes effect first (a message is posted) and the caller still hears the failure."""
        with self._lock:
            for _ in range(times):
                self._failures.setdefault(method, []).append(Failure(error, status, retry_after, after_effect, channel))

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """The bot's messages in a channel (threads included), oldest first."""
        with self._lock:
            found = [m for (c, _), m in self.messages.items() if c == channel]
        return sorted(found, key=lambda m: m["ts"])

    # --- asserting ----------------------------------------------------------------------

    def calls_to(self, method: str, ok: bool | None = True, **matching: Any) -> list[Call]:
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if c.method == method
            and (ok is None or c.ok == ok)
            and all(c.args.get(k) == v for k, v in matching.items())
        ]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0, **matching: Any) -> list[Call]:
        """Wait until at least ``count`` successful calls to ``method`` (matching the given args) arrived."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = self.calls_to_unlocked(method, **matching)
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.method, c.ok, c.error) for c in self.calls[-15:]]
                    raise AssertionError(f"expected {count} call(s) to {method} {matching}; last calls: {seen}")
                self._lock.wait(remaining)

    def calls_to_unlocked(self, method: str, **matching: Any) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and c.ok and all(c.args.get(k) == v for k, v in matching.items())
        ]

    # --- the API -----------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers: dict[str, str] = {}
        if method not in KNOWN_METHODS:
            self._record(Call(method, args, time.monotonic(), ok=False, error="unknown_method"))
            return 404, {"ok": False, "error": "unknown_method"}, headers
        with self._lock:
            queued = self._failures.get(method) or []
            failure = next((f for f in queued if f.channel is None or f.channel == args.get("channel")), None)
            if failure is not None:
                queued.remove(failure)
        if failure is not None and failure.after_effect:
            self._record(Call(method, args, time.monotonic()))
            getattr(self, "_" + method.replace(".", "_"))(args)
        if failure is not None:
            self._record(Call(method, args, time.monotonic(), ok=False, error=failure.error))
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            return failure.status, {"ok": False, "error": failure.error}, headers
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if method != "response_url" and token != expected:
            self._record(Call(method, args, time.monotonic(), ok=False, error="invalid_auth"))
            return 200, {"ok": False, "error": "invalid_auth"}, headers
        try:
            result = getattr(self, "_" + method.replace(".", "_"))(args)
        except BlockKitError as error:
            name = "invalid_blocks" if method in MESSAGE_METHODS else "invalid_arguments"
            self._record(Call(method, args, time.monotonic(), ok=False, error=f"{name}: {error}"))
            return 200, {"ok": False, "error": name, "response_metadata": {"messages": [str(error)]}}, headers
        except SlackRefusal as refusal:
            self._record(Call(method, args, time.monotonic(), ok=False, error=refusal.error))
            return 200, {"ok": False, "error": refusal.error}, headers
        self._record(Call(method, args, time.monotonic()))
        return 200, {"ok": True, **result}, headers

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://council.slack.com/",
            "team": "Council",
            "user": "commissioning",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            raise SlackRefusal("channel_not_found")
        if not args.get("text") and not args.get("blocks"):
            raise SlackRefusal("no_text")
        check_blocks(args.get("blocks") or [], 50)
        ts = self._new_ts()
        message = {
            "ts": ts,
            "text": args.get("text"),
            "blocks": args.get("blocks") or [],
            "bot_id": BOT_ID,
            "thread_ts": args.get("thread_ts"),
        }
        metadata = args.get("metadata")
        if metadata:
            if not isinstance(metadata, dict) or not metadata.get("event_type") or "event_payload" not in metadata:
                raise SlackRefusal("invalid_metadata_format")
            message["metadata"] = metadata
        with self._lock:
            self.messages[(args["channel"], ts)] = message
        return {"channel": args["channel"], "ts": ts, "message": message}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        check_blocks(args.get("blocks") or [], 50)
        return {"message_ts": self._new_ts()}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args.get("channel"), args.get("ts"))
        if key not in self.messages:
            raise SlackRefusal("message_not_found")
        check_blocks(args.get("blocks") or [], 50)
        self.messages[key].update(text=args.get("text"), blocks=args.get("blocks") or [])
        return {"channel": args["channel"], "ts": args["ts"]}

    def _response_url(self, args: dict[str, Any]) -> dict[str, Any]:
        check_blocks(args.get("blocks") or [], 50)
        return {}

    def _check_view(self, view: dict[str, Any]) -> None:
        if not isinstance(view, dict) or view.get("type") not in {"modal", "home"}:
            raise BlockKitError("a view needs a type of modal or home")
        check_blocks(view.get("blocks") or [], 100)
        if len(view.get("private_metadata") or "") > 3000:
            raise BlockKitError("private_metadata over 3000 characters")
        if len(view.get("callback_id") or "") > 255:
            raise BlockKitError("callback_id over 255 characters")
        if view["type"] == "modal":
            for part in ("title", "submit", "close"):
                if part in view and len(view[part]["text"]) > 24:
                    raise BlockKitError(f"{part} over 24 characters")
            has_inputs = any(b.get("type") == "input" for b in view.get("blocks") or [])
            if has_inputs and "submit" not in view:
                raise BlockKitError("a modal with inputs needs a submit button")

    def _use_trigger(self, trigger_id: str | None) -> None:
        issued = self._triggers.pop(trigger_id or "", None)
        if issued is None:
            raise SlackRefusal("invalid_trigger_id")
        if time.monotonic() - issued > TRIGGER_SECONDS:
            raise SlackRefusal("expired_trigger_id")

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._check_view(args.get("view"))  # type: ignore[arg-type]
        self._use_trigger(args.get("trigger_id"))
        return {"view": {"id": f"V{next(self._ids)}", **args["view"]}}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._views_open(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        self._check_view(args.get("view"))  # type: ignore[arg-type]
        return {"view": {"id": args.get("view_id"), **args["view"]}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("user_id") not in self.users:
            raise SlackRefusal("user_not_found")
        self._check_view(args.get("view"))  # type: ignore[arg-type]
        return {"view": {"id": f"V{next(self._ids)}", **args["view"]}}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        if users not in self.users:
            raise SlackRefusal("user_not_found")
        return {"channel": {"id": "D" + users[1:]}}

    def _conversation(
        self, channel: str, keep: Callable[[dict[str, Any]], bool], args: dict[str, Any]
    ) -> dict[str, Any]:
        oldest = float(args.get("oldest") or 0)
        found = [m for m in self.messages_in(channel) if keep(m) and float(m["ts"]) >= oldest]
        if str(args.get("include_all_metadata")).lower() not in ("true", "1"):
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"messages": found[: int(args.get("limit") or 100)], "has_more": False}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages only, newest first, as Slack lists them."""
        channel = str(args.get("channel") or "")
        answer = self._conversation(channel, lambda m: not m.get("thread_ts") or m["thread_ts"] == m["ts"], args)
        answer["messages"].reverse()
        return answer

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        if not ts:
            raise SlackRefusal("thread_not_found")
        return self._conversation(channel, lambda m: m.get("thread_ts") == ts or m["ts"] == ts, args)

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            raise SlackRefusal("user_not_found")
        return {"user": user.to_json()}

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = str(args.get("email", "")).lower()
        user = next((u for u in self.users.values() if u.email.lower() == wanted), None)
        if user is None:
            raise SlackRefusal("users_not_found")
        return {"user": user.to_json()}

    # --- the assistant panel (Agents & AI Apps) ------------------------------------------

    @staticmethod
    def _assistant_thread(args: dict[str, Any]) -> None:
        if not args.get("channel_id") or not args.get("thread_ts"):
            raise SlackRefusal("invalid_arguments")

    def _assistant_threads_setStatus(self, args: dict[str, Any]) -> dict[str, Any]:
        self._assistant_thread(args)
        if "status" not in args:
            raise SlackRefusal("invalid_arguments")
        return {}

    def _assistant_threads_setTitle(self, args: dict[str, Any]) -> dict[str, Any]:
        self._assistant_thread(args)
        if not args.get("title"):
            raise SlackRefusal("invalid_arguments")
        return {}

    def _assistant_threads_setSuggestedPrompts(self, args: dict[str, Any]) -> dict[str, Any]:
        self._assistant_thread(args)
        prompts = args.get("prompts")
        if isinstance(prompts, str):  # form-encoded calls carry it as JSON text
            prompts = json.loads(prompts)
        if not isinstance(prompts, list) or not 0 < len(prompts) <= MAX_SUGGESTED_PROMPTS:
            raise SlackRefusal("invalid_arguments")
        if any(not p.get("title") or not p.get("message") for p in prompts):
            raise SlackRefusal("invalid_arguments")
        return {}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.socket_url is None:
            raise SlackRefusal("no_socket_server")
        return {"url": self.socket_url}

    # --- HTTP ------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
                pass

            def _args(self) -> dict[str, Any]:
                parsed = urlparse(self.path)
                args: dict[str, Any] = dict(parse_qsl(parsed.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if raw:
                    if (self.headers.get("Content-Type") or "").startswith("application/json"):
                        args.update(json.loads(raw))
                    else:
                        args.update(dict(parse_qsl(raw.decode())))
                for name in ("blocks", "view", "attachments", "metadata"):
                    if isinstance(args.get(name), str):
                        args[name] = json.loads(args[name])
                return args

            def _serve(self) -> None:
                path = urlparse(self.path).path
                args = self._args()
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or args.get("token")
                if path.startswith("/api/"):
                    status, body, headers = fake.handle(path[len("/api/") :], args, token)
                elif path.startswith("/response/"):
                    status, body, headers = fake.handle("response_url", {**args, "url": path}, None)
                else:
                    status, body, headers = 404, {"ok": False, "error": "not_found"}, {}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_POST = _serve
            do_GET = _serve

        return Handler


class SlackRefusal(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
