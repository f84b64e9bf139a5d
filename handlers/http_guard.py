"""In front of every HTTP route: a request body is refused for its size before anyone reads or parses it.

Anyone on the internet can POST to ``/slack/events`` and ``/api/messages``. Without this layer a single
unauthenticated 300 MB request is read whole into memory before any check runs. Here the declared
``Content-Length`` is checked first (413 without reading a byte), and the body is counted while it
streams in (413 as soon as it passes the limit, for chunked uploads and lying headers). The route then
gets the body it would have read, unchanged.

An exception that escapes a route is answered with a plain 500 and one log line naming the error and
where it happened, never a traceback: a request that fails the same way a thousand times must not
write a thousand tracebacks.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_BODY_LIMIT", "ROUTE_BODY_LIMITS", "RequestGuardMiddleware"]

log = structlog.get_logger(__name__)

# Slack's largest requests are modal submissions (a view of up to 100 blocks and its state): well under 1 MB.
# Teams' activities are at most a few tens of KB; 512 KB is what the Teams endpoint has always allowed.
ROUTE_BODY_LIMITS: dict[str, int] = {"/slack/events": 1_048_576, "/api/messages": 512 * 1024}
DEFAULT_BODY_LIMIT = 64 * 1024
_BODYLESS_METHODS = {"GET", "HEAD", "OPTIONS"}


class RequestGuardMiddleware:
    """ASGI middleware: body-size limits per path, and no traceback for an exception a route lets through."""

    def __init__(
        self, app: ASGIApp, limits: Mapping[str, int] | None = None, default_limit: int = DEFAULT_BODY_LIMIT
    ) -> None:
        self.app = app
        self.limits = dict(ROUTE_BODY_LIMITS if limits is None else limits)
        self.default_limit = default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            if scope.get("method", "GET") in _BODYLESS_METHODS:
                await self.app(scope, receive, tracked_send)
                return
            body = await self._read_body(scope, receive, send, path)
            if body is None:
                return
            await self.app(scope, _replay(body, receive), tracked_send)
        except Exception as error:  # noqa: BLE001 - one line instead of a traceback per request
            frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
            log.error(
                "http_request_failed",
                path=path,
                error=type(error).__name__,
                detail=str(error)[:200],
                where=f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else "",
            )
            if not started:
                await _answer(send, 500, {"error": "the request could not be handled"})

    async def _read_body(self, scope: Scope, receive: Receive, send: Send, path: str) -> bytes | None:
        """The whole body, or None after answering 400/413 when it is too big or its length is nonsense."""
        limit = self.limits.get(path, self.default_limit)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                log.warning("http_request_refused", path=path, status=400, reason="Content-Length is not a number")
                await _answer(send, 400, {"error": "Content-Length must be a number"})
                return None
            if int(declared) > limit:
                log.warning("http_request_refused", path=path, status=413, reason="too large", size=int(declared))
                await _answer(send, 413, {"error": f"the request body may be at most {limit} bytes"})
                return None
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                log.warning("http_request_refused", path=path, status=413, reason="too large while reading")
                await _answer(send, 413, {"error": f"the request body may be at most {limit} bytes"})
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the route the body already read, then whatever the connection says next."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
