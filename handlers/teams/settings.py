"""What the Teams adapter is configured with: built by ``bot/`` from TEAMS_* settings (see the README).

Every endpoint is a setting, so government clouds and the tests' fakes work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

__all__ = ["TeamsSettings"]


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str | None = None  # the bot's Microsoft App ID (Entra app registration)
    app_password: SecretStr | None = None  # the app registration's client secret
    tenant_id: str | None = None  # the council's Entra tenant (single-tenant bot)
    authority_url: str = "https://login.microsoftonline.com"
    openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    token_issuer: str = "https://api.botframework.com"
    bot_scope: str = "https://api.botframework.com/.default"
    # Hosts the Connector may live on; "*.example.com" allows its sub-domains.
    allowed_service_url_hosts: tuple[str, ...] = ("smba.trafficmanager.net",)
    # Extra CA certificates (PEM) trusted for Teams HTTPS calls, e.g. a TLS-inspecting proxy's.
    ca_bundle: Path | None = None

    @property
    def configured(self) -> bool:
        return not self.missing()

    @property
    def partly_configured(self) -> bool:
        """Some of the three settings Teams needs are set, but not all: a mistake worth saying out loud."""
        return 0 < len(self.missing()) < 3

    def missing(self) -> list[str]:
        """The settings Teams needs that are not set, by their environment variable names."""
        given = {
            "TEAMS_APP_ID": self.app_id,
            "TEAMS_APP_PASSWORD": self.app_password,
            "TEAMS_TENANT_ID": self.tenant_id,
        }
        return [name for name, value in given.items() if not value]
