"""What other people's libraries may write to our log: nothing that names a responder or opens an answer.

At DEBUG, slack_sdk logs every Web API request with its body (the thank-you message's "Change my answer"
button carries the secret that reopens an anonymous answer, and its channel names the person); Bolt logs
the requests it receives (a modal's private metadata, a button's value); httpx, httpcore, urllib3 and
msal log requests and token exchanges. None of that is needed to run the service, and the README promises
that no log line names an anonymous responder, so:

- below WARNING, these libraries write nothing, whatever ``LOG_LEVEL`` is (their loggers are raised to
  WARNING, and a filter on our handler drops any record that gets through, from a child logger with a
  level of its own);
- at WARNING and above, a message from the Slack libraries keeps its words but not the payload it quotes
  (Bolt's "Unhandled request ({...})" quotes the whole request).

Kept apart from :mod:`bot.logging` (formatting) so each can change without the other.
"""

from __future__ import annotations

import logging
import re

__all__ = ["PAYLOAD_QUOTING_LOGGERS", "REQUEST_LOGGING_LIBRARIES", "ThirdPartyPrivacyFilter", "install_log_privacy"]

# Libraries that log request and response bodies, headers or token exchanges at DEBUG or INFO.
REQUEST_LOGGING_LIBRARIES = (
    "slack_sdk",
    "slack_bolt",
    "handlers.slack.bolt",  # the logger our Bolt app is given (handlers.slack.app)
    "httpx",
    "httpcore",
    "urllib3",
    "msal",
    "microsoft_agents",
    "requests_oauthlib",
)
# Of those, the ones whose warnings quote a request or response payload.
PAYLOAD_QUOTING_LOGGERS = ("slack_sdk", "slack_bolt", "handlers.slack.bolt", "msal")
_PAYLOAD = re.compile(r"\{.*\}", re.DOTALL)


def _belongs(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


class ThirdPartyPrivacyFilter(logging.Filter):
    """On the log handler: third-party request logging below WARNING is dropped, payloads in warnings cut out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _belongs(record.name, REQUEST_LOGGING_LIBRARIES):
            return True
        if record.levelno < logging.WARNING:
            return False
        if _belongs(record.name, PAYLOAD_QUOTING_LOGGERS):
            message = record.getMessage()
            if _PAYLOAD.search(message):
                record.msg, record.args = _PAYLOAD.sub("{…}", message), None
        return True


def install_log_privacy(handler: logging.Handler) -> None:
    """Raise the request-logging libraries to WARNING and filter ``handler`` (the one that writes the log)."""
    for name in REQUEST_LOGGING_LIBRARIES:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.WARNING, logger.level))
    handler.addFilter(ThirdPartyPrivacyFilter())
