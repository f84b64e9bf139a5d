"""The App Home tab opened: draw the officer's reviews (stored before the acknowledgement, drawn once)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from handlers.slack.context import SlackContext
from handlers.slack.home import publish_home
from handlers.slack.interaction_work import InteractionRun, event_key, interaction_task


@interaction_task("app_home_opened")
def draw_home_tab(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    user_id = str(payload["user"])
    run.effect(lambda: publish_home(run.slack, user_id))


def register(app: App, slack: SlackContext) -> None:
    @app.event("app_home_opened")
    def draw_home(event: dict[str, Any], body: dict[str, Any]) -> None:
        user_id = str(event["user"])
        slack.queue_interaction(
            "app_home_opened", {"user": user_id}, key=event_key(body), team_id=body.get("team_id", ""), where=user_id
        )
