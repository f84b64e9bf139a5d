"""``POST /api/messages`` on the shared ASGI server (see :mod:`bot.server`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from handlers.teams.endpoint import teams_adapter, teams_configured

if TYPE_CHECKING:
    from bot.app import Services
    from bot.server import ServerHooks


def teams_route_provider(services: "Services", hooks: "ServerHooks") -> list[BaseRoute]:
    """The Teams part of the server, when TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID are set."""
    if not teams_configured(services.settings):
        return []
    adapter = teams_adapter(services)
    hooks.on_shutdown(adapter.close)
    return list(adapter.routes())
