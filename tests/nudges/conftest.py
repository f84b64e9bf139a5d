"""Fixtures for the nudge tests: the fake Slack Web API of the Slack tests, on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handlers.slack.context import build_web_client
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def slack_client(fake_slack: FakeSlack):  # type: ignore[no-untyped-def]
    """The product's own Web API client (429 handling and all), pointed at the fake."""
    return build_web_client(BOT_TOKEN, fake_slack.api_url)
