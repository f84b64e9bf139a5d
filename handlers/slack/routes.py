"""``POST /slack/events``: Slack's Events API, slash commands and interactivity, on the shared ASGI server.

Bolt's own Starlette adapter runs the (synchronous) dispatch on the event loop, where one slow
database write would hold up every other request; here it runs in a worker thread instead.
"""

from __future__ import annotations

from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from handlers.slack.app import SlackBot
from handlers.slack.request_guard import SlackRequestGuard

SLACK_EVENTS_PATH = "/slack/events"


def slack_routes(bot: SlackBot) -> list[BaseRoute]:
    secret = bot.slack.settings.signing_secret
    guard = SlackRequestGuard(secret.get_secret_value() if secret is not None else "")

    async def slack_events(request: Request) -> Response:
        bot.slack.note_request()
        body = await request.body()  # its size is already bounded by handlers.http_guard
        checked = guard.check(request.headers, body)  # signature, then shape, before Bolt parses anything
        if checked.refusal is not None:
            return checked.refusal
        bolt_response = await run_in_threadpool(bot.app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(guard.settle(checked, bolt_response))

    return [Route(SLACK_EVENTS_PATH, slack_events, methods=["POST"])]
