"""Socket Mode: for a server with no public URL, Slack pushes the same requests over a WebSocket.

The app-level token (``xapp-...``, SLACK_APP_TOKEN) opens the connection; each
envelope is acknowledged over the socket and dispatched into the same Bolt app.
"""

from __future__ import annotations

from slack_bolt.adapter.socket_mode import SocketModeHandler

from handlers.slack.app import SlackBot


def start_socket_mode(bot: SlackBot, app_token: str) -> SocketModeHandler:
    """Connect and return at once; the handler's own threads receive envelopes until ``close()``."""
    handler = SocketModeHandler(bot.app, app_token=app_token, web_client=bot.slack.client)
    handler.connect()  # type: ignore[no-untyped-call]  # slack_bolt's Socket Mode handler is not annotated
    return handler
