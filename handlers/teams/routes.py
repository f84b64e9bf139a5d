"""``POST /api/messages`` on the shared ASGI server (see :mod:`bot.server`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from starlette.routing import BaseRoute

from handlers.teams.endpoint import teams_configured

log = structlog.get_logger(__name__)

if TYPE_CHECKING:
    from bot.app import Services
    from bot.server import ServerHooks


def teams_route_provider(services: Services, hooks: ServerHooks) -> list[BaseRoute]:
    """The Teams part of the server, when TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID are set."""
    settings = services.settings
    if not teams_configured(settings):
        given = {
            "TEAMS_APP_ID": settings.teams_app_id,
            "TEAMS_APP_PASSWORD": settings.teams_app_password,
            "TEAMS_TENANT_ID": settings.teams_tenant_id,
        }
        missing = [name for name, value in given.items() if not value]
        if len(missing) < len(given):
            # Half-configured is a mistake worth saying out loud; not configured at all is a Slack-only council.
            log.warning("teams_not_started", missing=missing)
        return []
    adapter = services.teams
    assert adapter is not None
    hooks.on_shutdown(adapter.close)
    return list(adapter.routes())
