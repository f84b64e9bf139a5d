"""The bot's own access token for the Bot Framework Connector, from Entra ID through msal.

Client-credentials flow against the council's tenant (single-tenant bots:
``{TEAMS_AUTHORITY_URL}/{TEAMS_TENANT_ID}``) for ``TEAMS_BOT_SCOPE``. msal
keeps the token in its in-memory cache and only asks Entra again shortly
before it expires, so calling :meth:`BotTokenProvider.token` per message is cheap.

Instance discovery is turned off: it asks login.microsoftonline.com about the
authority, which fails for a government cloud's own authority host and for a
test token service. The authority URL comes from settings instead, over HTTPS,
with the same trust store as every other Teams call (``TEAMS_CA_BUNDLE``).
"""

from __future__ import annotations

import logging
import threading

import msal

from bot.config import Settings
from bot.logging import event
from handlers.teams.transport import http_client, require_https

log = logging.getLogger(__name__)


class BotTokenError(RuntimeError):
    """No token could be had from Entra ID; the message names the error code, never the secret."""


class BotTokenProvider:
    def __init__(self, settings: Settings) -> None:
        if not settings.teams_app_id or settings.teams_app_password is None or not settings.teams_tenant_id:
            raise ValueError("TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID must all be set to send to Teams")
        authority = require_https(settings.teams_authority_url, "TEAMS_AUTHORITY_URL").rstrip("/")
        self._scope = settings.teams_bot_scope
        self._http = http_client(settings)
        self._app = msal.ConfidentialClientApplication(
            settings.teams_app_id,
            client_credential=settings.teams_app_password.get_secret_value(),
            authority=f"{authority}/{settings.teams_tenant_id}",
            validate_authority=False,
            instance_discovery=False,
            http_client=self._http,
        )
        # msal's cache is thread-safe, but two threads missing it at once would both ask Entra.
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            result = self._app.acquire_token_for_client(scopes=[self._scope])
        if "access_token" not in result:
            code = str(result.get("error") or "unknown_error")
            event(log, "teams_token_failed", logging.ERROR, error=code,
                  correlation_id=result.get("correlation_id"))
            raise BotTokenError(f"Entra ID refused the bot's token request ({code})")
        if result.get("token_source") == "identity_provider":
            event(log, "teams_token_acquired", expires_in=result.get("expires_in"))
        return str(result["access_token"])

    def invalidate(self) -> None:
        """Forget the cached token (the Connector refused it, e.g. after the secret was rotated)."""
        with self._lock:
            self._app.remove_tokens_for_client()

    def close(self) -> None:
        self._http.close()
