"""Each chat platform's part of the server: a *route provider* ``provider(services, hooks) -> routes``.

A provider returns no routes when its platform is not configured (for HTTP), and registers anything to
close when the server stops with ``hooks.on_shutdown``. :data:`bot.server.ROUTE_PROVIDERS` lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import structlog
from starlette.routing import BaseRoute

from bot.app import Services

log = structlog.get_logger(__name__)


class ServerHooks:
    """What a route provider may ask of the server: things to close when it stops."""

    def __init__(self) -> None:
        self._closers: list[Callable[[], None]] = []

    def on_shutdown(self, close: Callable[[], None]) -> None:
        self._closers.append(close)

    def close_all(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception as error:  # noqa: BLE001 - one part failing to close must not stop the others
                log.warning("server_close_failed", error=type(error).__name__)


class RouteProvider(Protocol):
    def __call__(self, services: Services, hooks: ServerHooks) -> Sequence[BaseRoute]: ...


def slack_route_provider(services: Services, hooks: ServerHooks) -> Sequence[BaseRoute]:
    """``POST /slack/events`` when Slack is configured for HTTP mode.

    With SLACK_APP_TOKEN set, Slack talks over Socket Mode instead (``commissioning-bot serve`` starts it)
    and no public endpoint is needed.
    """
    settings = services.settings.for_slack()
    if not settings.http_mode:
        return []
    # lazy: Bolt and the Slack SDK are only imported when Slack is configured.
    from handlers.slack.app import build_slack_app
    from handlers.slack.routes import slack_routes

    bot = build_slack_app(services, settings)
    hooks.on_shutdown(bot.close)
    return slack_routes(bot)


def teams_route_provider(services: Services, hooks: ServerHooks) -> Sequence[BaseRoute]:
    """``POST /api/messages`` when TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID are set."""
    adapter = services.teams
    if adapter is None:
        settings = services.settings.for_teams()
        if settings.partly_configured:
            # Not configured at all is a Slack-only council; half-configured is a mistake worth saying out loud.
            log.warning("teams_not_started", missing=settings.missing())
        return []
    hooks.on_shutdown(adapter.close)
    return adapter.routes()
