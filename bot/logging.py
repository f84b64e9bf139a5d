"""Logging, configured once per process by whoever starts it (the CLI, the tests, a worker script).

Every module logs with structlog, by event name and fields::

    log = structlog.get_logger(__name__)
    log.info("review_created", review_id=12)
    log.warning("teams_reply_failed", status=502)

:func:`configure_logging` sends those events, and the standard library's loggers (third-party
libraries: uvicorn, httpx, Bolt, Chroma, APScheduler), to standard error through one formatter:

- one JSON object per line (``ts``, ``level``, ``logger``, ``event`` and the fields) when
  ``LOG_FORMAT`` is ``json``, or ``auto`` and standard error is not a terminal;
- readable text (:class:`structlog.dev.ConsoleRenderer`) when ``LOG_FORMAT`` is ``text``, or ``auto``
  on a terminal.

Secrets (Slack tokens, bearer tokens, ``password=...`` and the like) are scrubbed from every field
before any handler sees the event, and from every finished line, whichever library wrote it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from bot.log_privacy import install_log_privacy

__all__ = ["LOG_FORMATS", "configure_logging", "scrub"]

LOG_FORMATS = ("auto", "json", "text")

# Tokens that must never reach a log line, whatever field they hide in.
_SECRET_PATTERNS = [
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),  # Slack bot/user/config tokens
    re.compile(r"xapp-[A-Za-z0-9-]+"),  # Slack app-level tokens
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(password|secret|api[_-]?key|token)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",]+"),
]
# Third-party libraries that are chatty at INFO: only their warnings are kept.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
_NOISY_LIBRARIES = ("chromadb", "httpx", "urllib3", "bm25s", "alembic", "apscheduler")


def scrub(text: str) -> str:
    """``text`` with every secret-looking token replaced by ``[redacted]``."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {key: _scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(item) for item in value]
    return value


def _scrub_fields(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Scrub every field, so no handler (a test's log capture included) ever holds a secret."""
    return {key: value if key.startswith("_") else _scrub_value(value) for key, value in event_dict.items()}


class _ScrubbedRenderer:
    """Renders with ``renderer`` and scrubs the finished line: a third-party message may carry a secret anywhere."""

    def __init__(self, renderer: Processor) -> None:
        self._renderer = renderer

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
        rendered = self._renderer(logger, method_name, event_dict)
        return scrub(rendered if isinstance(rendered, str) else str(rendered))


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.processors.StackInfoRenderer(),
        _scrub_fields,
    ]


def _use_json(fmt: str, stream: TextIO) -> bool:
    if fmt == "json":
        return True
    if fmt == "text":
        return False
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Route structlog and the standard library's loggers to ``stream`` (standard error), so standard output
    stays for the product's own output. ``fmt``: "json", "text" or "auto" (JSON unless on a terminal)."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    stream = stream if stream is not None else sys.stderr
    renderer: Processor
    if _use_json(fmt, stream):
        renderer = structlog.processors.JSONRenderer(default=str, ensure_ascii=False)
        exceptions: list[Processor] = [structlog.processors.dict_tracebacks]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        exceptions = []
    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # Records from the standard library's loggers get the same fields as structlog's own events.
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *exceptions,
                _ScrubbedRenderer(renderer),
            ],
        )
    )
    install_log_privacy(handler)  # what third-party libraries may write (bot.log_privacy)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for server in _SERVER_LOGGERS:
        # A server started with its own logging set-up gave these loggers their own handlers: ours take over.
        server_logger = logging.getLogger(server)
        server_logger.handlers.clear()
        server_logger.propagate = True
    for noisy in _NOISY_LIBRARIES:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
