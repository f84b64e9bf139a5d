"""The ASGI server: /healthz follows the warm-up, other platforms plug in their routes, bad Slack settings
are reported plainly and without the secret."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.app import Services
from bot.cli import cli
from bot.server import ROUTE_PROVIDERS, build_server
from tests.slack.conftest import slack_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import LoopbackServer


@pytest.fixture
def fake():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def test_healthz_is_503_while_warming_up_then_200(tmp_path, fake, cold_guidance) -> None:
    calls = []

    def teams_like_provider(services, hooks):
        async def messages(request):
            return PlainTextResponse("activity received")

        hooks.on_shutdown(lambda: calls.append("closed"))
        return [Route("/api/messages", messages, methods=["POST"])]

    services = Services(slack_settings(tmp_path / "data", fake), knowledge=cold_guidance)
    server = LoopbackServer(build_server(services, [*ROUTE_PROVIDERS, teams_like_provider])).start()
    try:
        warming = httpx.get(f"{server.url}/healthz")
        assert warming.status_code == 503 and warming.json()["status"] == "warming_up"
        ready = server.wait_until_ready()
        assert ready["status"] == "ready" and set(ready["routes"]) == {"/slack/events", "/api/messages"}
        assert httpx.post(f"{server.url}/api/messages").text == "activity received"
    finally:
        server.stop()
        services.close()
    assert calls == ["closed"]


def test_slack_routes_are_left_out_when_slack_is_not_configured(tmp_path) -> None:
    services = Services(
        slack_settings(tmp_path / "data", FakeSlack()).model_copy(
            update={"slack_bot_token": None, "slack_signing_secret": None}
        )
    )
    app = build_server(services, warm_up=False)
    assert [route.path for route in app.routes] == ["/healthz", "/metrics"]


def test_serve_refuses_a_bad_bot_token_without_printing_it(tmp_path, fake, monkeypatch) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-9999-not-the-right-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "a-signing-secret")
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code != 0
    assert "Slack refused the bot token" in result.output and "invalid_auth" in result.output
    assert "xoxb-9999" not in result.output and "a-signing-secret" not in result.output
