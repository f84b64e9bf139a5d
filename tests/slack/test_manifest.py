"""The app manifests ask Slack for exactly what the listeners need."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from handlers.slack.routes import SLACK_EVENTS_PATH

MANIFESTS = Path(__file__).resolve().parents[2] / "slack"


@pytest.mark.parametrize("name", ["manifest.yml", "manifest-socket-mode.yml"])
def test_manifest_matches_the_app(name: str) -> None:
    manifest = yaml.safe_load((MANIFESTS / name).read_text())
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "assistant_thread_started",
        "assistant_thread_context_changed",
        "message.im",
        "message.channels",
        "message.groups",
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["assistant_view"]["assistant_description"]
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == Settings(_env_file=None).slack_command  # type: ignore[call-arg]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "assistant:write",
        "channels:history",
        "groups:history",
        "chat:write",
        "commands",
        "im:history",
        "im:write",
        "users:read",
        "users:read.email",
    } <= scopes
    assert settings["interactivity"]["is_enabled"] is True
    if settings["socket_mode_enabled"]:
        assert "request_url" not in settings["interactivity"]
    else:
        for url in (
            command["url"],
            settings["event_subscriptions"]["request_url"],
            settings["interactivity"]["request_url"],
        ):
            assert url.endswith(SLACK_EVENTS_PATH)
