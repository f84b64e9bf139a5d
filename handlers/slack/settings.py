"""What the Slack adapter is configured with: built by ``bot/`` from SLACK_* settings (see the README)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

__all__ = ["SlackSettings"]


@dataclass(frozen=True)
class SlackSettings:
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    # An app-level token (xapp-) means Socket Mode: Slack's requests arrive over a WebSocket we open.
    app_token: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    command: str = "/commissioning"

    @property
    def http_mode(self) -> bool:
        """Slack sends its requests to our public ``/slack/events``."""
        return self.bot_token is not None and self.signing_secret is not None and self.app_token is None
