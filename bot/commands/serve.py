"""``commissioning-bot serve``: the Slack (and Teams) endpoints and /healthz on one server.

HTTP mode by default: Slack sends requests to ``https://<host>/slack/events``.
With SLACK_APP_TOKEN set, Slack's requests arrive over Socket Mode instead (no
public URL needed) and the HTTP server still answers /healthz and any other
platform's endpoint.
"""

from __future__ import annotations

import sys

import click
import structlog

from bot.config import Settings

log = structlog.get_logger(__name__)

SWITCH_INTERVAL_SECONDS = 0.0005


def register(cli: click.Group) -> None:
    @cli.command("serve")
    @click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
    @click.option("--port", default=3000, show_default=True, type=int, help="Port to listen on.")
    @click.option(
        "--scheduler/--no-scheduler",
        "with_scheduler",
        default=True,
        show_default=True,
        help="Also run the nudge scheduler (turn off when `commissioning-bot scheduler` runs separately).",
    )
    @click.pass_obj
    def serve(settings: Settings, host: str, port: int, with_scheduler: bool) -> None:
        """Run the chat endpoints: POST /slack/events (or Slack's Socket Mode) and GET /healthz."""
        # lazy: the server's libraries (uvicorn, Starlette, Bolt, the guidance's) load only for this command.
        import uvicorn

        from bot.app import Services
        from bot.scheduler import start_scheduler
        from bot.server import build_server
        from handlers.slack.app import SlackNotConfigured, build_slack_app
        from handlers.slack.socket_mode import start_socket_mode
        from handlers.teams.transport import InsecureUrlError

        # Acknowledgements are short and must not wait behind answers being worked out in other threads:
        # hand the interpreter lock round more often than the default 5 ms.
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)

        services = Services(settings)
        slack_settings = settings.for_slack()
        socket_mode = None
        try:
            if slack_settings.app_token is not None:
                bot = build_slack_app(services, slack_settings)
                socket_mode = start_socket_mode(bot, slack_settings.app_token.get_secret_value())
                log.info("slack_socket_mode_connected")
            elif slack_settings.bot_token is None:
                log.warning(
                    "slack_not_configured",
                    hint="set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) to answer Slack",
                )
            app = build_server(services, freeze_when_warm=True)
        except (SlackNotConfigured, InsecureUrlError) as error:
            # A setting to correct, said in one line, not a traceback.
            services.close()
            raise click.ClickException(str(error)) from error
        scheduler = start_scheduler(services) if with_scheduler else None
        try:
            # Our own logging set-up stays in charge (log_config=None); uvicorn's access log would repeat every request.
            uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
        finally:
            if scheduler is not None:
                scheduler.shutdown()
            if socket_mode is not None:
                socket_mode.close()  # type: ignore[no-untyped-call]  # slack_bolt's Socket Mode handler is not annotated
            services.close()
