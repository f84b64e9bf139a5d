"""Third-party request logging never reaches the log at any LOG_LEVEL; payloads in their warnings are cut."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logging import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    configure_logging("WARNING", "text")


@pytest.mark.parametrize(
    "name", ["slack_sdk.web.base_client", "slack_bolt.App", "handlers.slack.bolt", "httpx", "msal.application"]
)
def test_request_logging_below_warning_is_dropped_even_at_debug(restore_logging, name: str) -> None:
    out = io.StringIO()
    configure_logging("DEBUG", "json", stream=out)
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)  # even a library that sets its own level cannot get through the handler
    logger.debug("Sending a request - body: {'value': '12:s3cr3t-edit-token', 'channel': 'D0PERSON1'}")
    logger.info("Received the following response - body: {'channel': 'D0PERSON1'}")
    logging.getLogger("workflows.example").debug("our own debug line")
    text = out.getvalue()
    assert "s3cr3t-edit-token" not in text and "D0PERSON1" not in text
    assert "our own debug line" in text


def test_a_slack_warning_keeps_its_words_but_not_the_payload_it_quotes(restore_logging) -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    logging.getLogger("handlers.slack.bolt").warning(
        "Unhandled request (%s)", {"type": "view_submission", "view": {"private_metadata": '{"token": "abc123"}'}}
    )
    text = out.getvalue()
    assert "Unhandled request" in text and "abc123" not in text and "private_metadata" not in text
