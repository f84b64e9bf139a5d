"""Logging as every process sets it up: JSON lines or readable text, third-party loggers alike, secrets scrubbed."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
import structlog
import uvicorn.config

from bot.logging import configure_logging, scrub

log = structlog.get_logger("tests.bot.logging")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    configure_logging("WARNING", "text")  # as tests/conftest.py sets it for the rest of the suite


def lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line.strip()]


def test_events_are_json_lines_with_their_fields(restore_logging) -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    log.info("review_created", review_id=12, stages=["Analyse", "Plan"])
    log.debug("not_shown_below_the_level")
    [line] = lines(out)
    record = json.loads(line)
    assert record["event"] == "review_created" and record["level"] == "info"
    assert record["logger"] == "tests.bot.logging" and record["review_id"] == 12
    assert record["stages"] == ["Analyse", "Plan"] and record["ts"].startswith("20")


def test_third_party_loggers_share_the_format(restore_logging) -> None:
    # A web server started earlier in the process with its own logging set-up (uvicorn's default) does not keep
    # its loggers out of the format.
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    logging.getLogger("uvicorn.error").warning("Started server process [%d]", 42)
    record = json.loads(lines(out)[-1])
    assert record == {**record, "event": "Started server process [42]", "level": "warning", "logger": "uvicorn.error"}


@pytest.mark.parametrize(
    "secret",
    [
        "xoxb-1111-2222-abcdefABCDEF",
        "xapp-1-A0B1C2-333-abcdef",
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
        "password=hunter2",
        'client_secret: "s3cr3t-value"',
    ],
)
def test_secrets_are_scrubbed_from_fields_messages_and_text(restore_logging, secret: str) -> None:
    for fmt in ("json", "text"):
        out = io.StringIO()
        configure_logging("INFO", fmt, stream=out)
        log.warning("slack_call_failed", detail=f"the request carried {secret}", nested={"header": secret})
        logging.getLogger("httpx").warning("sent %s", secret)
        written = out.getvalue()
        assert written.count("[redacted]") >= 3, written
        assert secret.split()[-1].split("=")[-1].strip('"') not in written


def test_scrub_leaves_ordinary_words_alone() -> None:
    assert scrub("token expired for review 12") == "token expired for review 12"
    assert scrub("token=abc123 and more") == "token=[redacted] and more"


def test_text_on_a_terminal_and_json_elsewhere_by_default(restore_logging) -> None:
    terminal = Terminal()
    configure_logging("INFO", "auto", stream=terminal)
    log.info("server_started", routes=["/healthz"])
    [line] = lines(terminal)
    assert "server_started" in line and "routes=['/healthz']" in line and not line.startswith("{")

    piped = io.StringIO()
    configure_logging("INFO", "auto", stream=piped)
    log.info("server_started", routes=["/healthz"])
    assert json.loads(lines(piped)[0])["routes"] == ["/healthz"]


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        configure_logging("INFO", "xml")
