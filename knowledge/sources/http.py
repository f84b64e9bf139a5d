"""HTTP for the remote sources: one client each, throttling honoured, bodies read within a size limit.

Microsoft Graph and web servers ask a client to slow down with ``429 Too Many
Requests`` or ``503 Service Unavailable`` and a ``Retry-After`` header (seconds,
or an HTTP date). The request is repeated after that wait, up to
``MAX_ATTEMPTS`` times; a wait longer than ``MAX_WAIT_SECONDS`` is not waited
out (the scheduled refresh will try again) and the source reports why.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import certifi
import httpx
import structlog

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 6
MAX_WAIT_SECONDS = 120.0
THROTTLED = {429, 503}


class TooLarge(Exception):
    """The body is larger than allowed; nothing more is read."""


@dataclass(frozen=True)
class Fetch:
    status: int
    url: str  # the address answered (after any redirect this client followed)
    headers: httpx.Headers
    body: bytes


def make_client(*, user_agent: str, ca_bundle: Path | None = None, timeout: float = 30.0) -> httpx.Client:
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle is not None:
        # A council's TLS-inspecting proxy (or a test CA) on top of the public ones.
        context.load_verify_locations(cafile=str(ca_bundle))
    return httpx.Client(
        verify=context,
        timeout=httpx.Timeout(timeout, connect=10.0),
        headers={"User-Agent": user_agent},
        follow_redirects=False,  # each hop is checked (same site, robots.txt) by the caller
    )


def retry_after(headers: httpx.Headers, default: float = 5.0) -> float:
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    want: Callable[[httpx.Headers], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetch:
    """One request, repeated while the server says it is throttling us; the body read up to ``max_bytes``.

    ``want`` sees a successful answer's headers first: when it says no (a type that cannot be read), the
    body is left unread. Raises :class:`TooLarge` when the body (or its declared length) exceeds ``max_bytes``, and
    ``httpx.HTTPError`` when the server cannot be reached or keeps throttling.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with client.stream(method, url, headers=dict(headers or {})) as response:
            if response.status_code in THROTTLED and attempt < MAX_ATTEMPTS:
                wait = retry_after(response.headers)
                if wait > MAX_WAIT_SECONDS:
                    raise httpx.HTTPStatusError(
                        f"the server asked us to wait {wait:.0f} seconds", request=response.request, response=response
                    )
                log.info("source_throttled", status=response.status_code, wait_seconds=wait, attempt=attempt)
                sleep(wait)
                continue
            if want is not None and response.status_code == 200 and not want(response.headers):
                return Fetch(response.status_code, str(response.url), response.headers, b"")
            body = _read(response, max_bytes)
            return Fetch(response.status_code, str(response.url), response.headers, body)
    raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover


def _read(response: httpx.Response, max_bytes: int | None) -> bytes:
    declared = response.headers.get("Content-Length")
    if max_bytes is not None and declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(int(declared))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)
