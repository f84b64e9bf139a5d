"""The Slack app: one Bolt app with the pre-filter and every listener registered.

``build_slack_app(services, settings)`` is the one entry point; the HTTP route
(``routes.py``) and Socket Mode (``socket_mode.py``) both dispatch into it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from slack_bolt import App
from slack_bolt.error import BoltError

from handlers.services import ChatServices
from handlers.slack import actions, commands, events, views
from handlers.slack.assistant import build_assistant
from handlers.slack.context import SlackContext, build_web_client
from handlers.slack.prefilter import EventPrefilter
from handlers.slack.request_guard import listener_failed
from handlers.slack.settings import SlackSettings

log = structlog.get_logger(__name__)
bolt_log = logging.getLogger("handlers.slack.bolt")


class _DropTokenSkippedWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then warns that the
    token is unused. Our client (with its retry handlers) is built from that same token, so the warning
    says nothing an operator can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


bolt_log.addFilter(_DropTokenSkippedWarning())


def in_background(task: str, work: Callable[[], Any]) -> None:
    """Housekeeping nobody was promised (forgetting old event ids): a thread of its own, logged if it fails."""

    def run() -> None:
        try:
            work()
        except Exception as error:  # noqa: BLE001 - tried again at the next purge
            log.warning("slack_housekeeping_failed", task=task, error=type(error).__name__)

    threading.Thread(target=run, name=f"slack-{task}", daemon=True).start()


class SlackNotConfigured(RuntimeError):
    """Settings are missing or Slack refused them; the message says which, never the secret itself."""


@dataclass
class SlackBot:
    app: App
    slack: SlackContext

    def close(self) -> None:
        self.slack.shutdown()


def build_slack_app(services: ChatServices, settings: SlackSettings) -> SlackBot:
    if settings.bot_token is None:
        raise SlackNotConfigured(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token from the Slack app's OAuth & Permissions page."
        )
    if settings.signing_secret is None and settings.app_token is None:
        raise SlackNotConfigured(
            "SLACK_SIGNING_SECRET is not set: copy it from the Slack app's Basic Information "
            "page (or set SLACK_APP_TOKEN to use Socket Mode)."
        )
    client = build_web_client(settings.bot_token.get_secret_value(), settings.api_url)
    slack = SlackContext(services, client, settings)
    try:
        # The client carries the bot token; Bolt checks it once here (auth.test) rather than on the first request.
        app = App(
            signing_secret=settings.signing_secret.get_secret_value() if settings.signing_secret else None,
            client=client,
            # Every listener only stores its slow work in the work queue and acknowledges, so running it
            # in the request's own thread sends the acknowledgement as soon as it returns, without
            # Bolt's extra thread hop and its polling for the ack.
            process_before_response=True,
            logger=bolt_log,
        )
    except BoltError as error:
        # Bolt's message names Slack's error code (e.g. invalid_auth), never the token.
        raise SlackNotConfigured(
            f"Slack refused the bot token: {error}. Check SLACK_BOT_TOKEN and that the app "
            "is installed in the workspace."
        ) from error
    prefilter = EventPrefilter(lambda: slack.processed_events, in_background=in_background)

    def prefilter_events(request, body, next):  # type: ignore[no-untyped-def]
        return prefilter(request, body, next)

    app.use(prefilter_events)
    app.error(listener_failed)  # one log line, not a traceback, and never a 500 (see request_guard)
    # After the pre-filter, so a retried or foreign event never reaches the assistant panel's listeners.
    app.assistant(build_assistant(slack))
    for listeners in (commands, events, actions, views):
        listeners.register(app, slack)
    log.info("slack_app_ready", command=slack.command)
    return SlackBot(app=app, slack=slack)
