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

import threading

import httpx
import msal
import structlog

from handlers.teams.settings import TeamsSettings
from handlers.teams.transport import http_client, require_https

log = structlog.get_logger(__name__)


class BotTokenError(RuntimeError):
    """No token could be had from Entra ID; the message names the error code, never the secret."""


class BotTokenProvider:
    def __init__(self, settings: TeamsSettings) -> None:
        if not settings.app_id or settings.app_password is None or not settings.tenant_id:
            raise ValueError("TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID must all be set to send to Teams")
        authority = require_https(settings.authority_url, "TEAMS_AUTHORITY_URL").rstrip("/")
        self._authority = f"{authority}/{settings.tenant_id}"
        self._client_id = settings.app_id
        self._secret = settings.app_password
        self._scope = settings.bot_scope
        self._http = http_client(settings)
        self._app: msal.ConfidentialClientApplication | None = None
        # msal's cache is thread-safe, but two threads missing it at once would both ask Entra.
        self._lock = threading.Lock()

    def _application(self) -> msal.ConfidentialClientApplication:
        # Built on first use: msal reads the authority's metadata when constructed, and the server
        # must start (and answer Slack) even while Entra ID can't be reached.
        if self._app is None:
            self._app = msal.ConfidentialClientApplication(
                self._client_id,
                client_credential=self._secret.get_secret_value(),
                authority=self._authority,
                validate_authority=False,
                instance_discovery=False,
                http_client=self._http,
            )
        return self._app

    def token(self) -> str:
        try:
            with self._lock:
                result = self._application().acquire_token_for_client(scopes=[self._scope])
        except (httpx.HTTPError, ValueError) as error:
            log.error("teams_token_failed", error=type(error).__name__)
            raise BotTokenError(
                f"Entra ID could not be reached for the bot's token ({type(error).__name__})"
            ) from error
        if "access_token" not in result:
            code = str(result.get("error") or "unknown_error")
            log.error("teams_token_failed", error=code, correlation_id=result.get("correlation_id"))
            raise BotTokenError(f"Entra ID refused the bot's token request ({code})")
        if result.get("token_source") == "identity_provider":
            log.info("teams_token_acquired", expires_in=result.get("expires_in"))
        return str(result["access_token"])

    def invalidate(self) -> None:
        """Forget the cached token (the Connector refused it, e.g. after the secret was rotated)."""
        with self._lock:
            if self._app is not None:
                self._app.remove_tokens_for_client()

    def close(self) -> None:
        self._http.close()
