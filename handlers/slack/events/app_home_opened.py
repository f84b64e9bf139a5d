"""The App Home tab opened: draw the officer's reviews."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from handlers.slack.context import SlackContext
from handlers.slack.home import publish_home


def register(app: App, slack: SlackContext) -> None:
    @app.event("app_home_opened")
    def draw_home(event: dict[str, Any]) -> None:
        slack.later("app_home_opened", lambda: publish_home(slack, event["user"]))
