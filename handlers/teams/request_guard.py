"""What ``/api/messages`` checks before it parses an activity: a bearer token that could be a JWT at all.

The token itself is checked in full by :mod:`handlers.teams.auth`, which needs the activity's service URL
and so comes after parsing. This refuses, without parsing anything, the requests that cannot possibly
pass: no ``Authorization`` header, another scheme, or a token that is not three base64url parts. The
body's size is bounded before that, for every route, by :mod:`handlers.http_guard`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import structlog
from starlette.responses import Response

__all__ = ["refuse_without_bearer_token"]

log = structlog.get_logger(__name__)

# header.payload.signature, each base64url; real Bot Framework tokens are 1-3 KB.
_JWT_SHAPE = re.compile(r"^Bearer [A-Za-z0-9_-]{4,8192}\.[A-Za-z0-9_-]{4,16384}\.[A-Za-z0-9_-]{4,8192}$")


class _DropActivityValidationTraceback(logging.Filter):
    """Microsoft's Activity model logs a full traceback for every body that is not an activity, before our
    endpoint answers 400 and logs its own one line (``teams_request_refused``): a log flood for anyone who
    can POST. Only that message is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Validation error for Activity")


logging.getLogger("microsoft_agents.activity.activity").addFilter(_DropActivityValidationTraceback())


def refuse_without_bearer_token(headers: Mapping[str, str]) -> Response | None:
    """401 (and one log line) when the request carries nothing that could be the channel's token."""
    if _JWT_SHAPE.match(headers.get("authorization") or ""):
        return None
    log.warning("teams_request_refused", status=401, reason="no bearer token")
    return Response(status_code=401)
