"""The one ASGI server: Slack's and Teams' endpoints and ``/healthz``, served by uvicorn.

Each chat platform adds its routes through a *route provider*
(:mod:`bot.routes`): a function ``provider(services, hooks) -> list of Starlette
routes`` listed in :data:`ROUTE_PROVIDERS`. A provider returns no routes when
its platform is not configured, and registers anything to close on shutdown
with ``hooks.on_shutdown``.

``/healthz`` answers 503 until :meth:`Services.warm_up` has loaded the index and
the embedding model (a cold model makes the first burst of requests slow), then
200 with a small JSON body: the release, the index version, and ``warnings`` for
what works but not fully (no chat platform configured, meaning search off). It
answers 503 with a ``reason`` whenever the database stops answering, so a load
balancer takes the replica out. Warming happens in a thread, so the server accepts
connections, and answers Slack, from the first second.

``/metrics`` serves the process's Prometheus metrics (:mod:`storage.metrics`).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import AsyncIterator, Sequence

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.app import Services
from bot.routes import RouteProvider, ServerHooks, slack_route_provider, teams_route_provider
from bot.version import VERSION
from handlers.http_guard import RequestGuardMiddleware
from storage.metrics import REGISTRY, register_gauge, set_release
from storage.work_queue import work_queue_depth

log = structlog.get_logger(__name__)


# Each platform's routes. Order does not matter; paths must not clash.
ROUTE_PROVIDERS: list[RouteProvider] = [slack_route_provider, teams_route_provider]


class Readiness:
    """Warm-up state for ``/healthz``."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.failed: str | None = None
        self.started = time.monotonic()
        self.seconds_to_ready: float | None = None

    def warm_up(self, services: Services, freeze: bool = False) -> None:
        try:
            services.warm_up()
        except Exception as error:  # noqa: BLE001 - reported through /healthz and the log
            self.failed = type(error).__name__
            log.error("warm_up_failed", error=type(error).__name__, detail=str(error)[:300])
            return
        if freeze:
            # What is loaded now lives as long as the process: keep it out of the garbage
            # collector's full sweeps, which otherwise add tens of milliseconds to random requests.
            # Only for a process that serves until it stops: frozen objects are never freed.
            gc.collect()
            gc.freeze()
        self.seconds_to_ready = round(time.monotonic() - self.started, 2)
        self.ready.set()


def _database_problem(services: Services) -> str | None:
    try:
        services.database.ping()
    except Exception as error:  # noqa: BLE001 - any failure means this replica cannot serve
        # The error's type only: its text can hold the database URL, password included.
        log.warning("healthz_database_unreachable", error=type(error).__name__)
        return f"The database is not answering ({type(error).__name__}); check DATABASE_URL and the database server."
    return None


def _warnings(services: Services, mounted: Sequence[str]) -> list[str]:
    """What works, but not fully: worth a look, not worth taking the replica out of service."""
    found = []
    slack = services.settings.for_slack()
    if not mounted and slack.app_token is None:
        found.append("No chat platform is configured, so only /healthz is served: set the SLACK_* or TEAMS_* settings.")
    knowledge = services.__dict__.get("knowledge")
    if knowledge is not None and not knowledge.dense_enabled:
        found.append(
            "Meaning search is off (no embedding model), so answers use keyword search only: "
            "set EMBEDDING_MODEL_DIR to a copy of all-MiniLM-L6-v2."
        )
    return found


def _index_version(services: Services) -> float:
    knowledge = services.__dict__.get("knowledge")
    return float(knowledge.version) if knowledge is not None else 0.0


def build_server(
    services: Services,
    route_providers: Sequence[RouteProvider] | None = None,
    *,
    warm_up: bool = True,
    freeze_when_warm: bool = False,
) -> Starlette:
    """The ASGI app: every provider's routes plus ``/healthz``. ``warm_up=False`` reports ready at once;
    ``freeze_when_warm`` keeps what warming loaded out of the garbage collector's sweeps (``serve`` only)."""
    hooks = ServerHooks()
    readiness = Readiness()
    routes: list[BaseRoute] = []
    mounted: list[str] = []
    for provider in route_providers if route_providers is not None else ROUTE_PROVIDERS:
        provided = list(provider(services, hooks))
        routes.extend(provided)
        mounted.extend(getattr(route, "path", "?") for route in provided)

    async def healthz(request: Request) -> JSONResponse:
        if not readiness.ready.is_set():
            status = "failed" if readiness.failed else "warming_up"
            return JSONResponse({"status": status, "version": VERSION}, status_code=503)
        problem = await run_in_threadpool(_database_problem, services)
        if problem is not None:
            return JSONResponse({"status": "unavailable", "reason": problem, "version": VERSION}, status_code=503)
        body: dict[str, object] = {
            "status": "ready",
            "version": VERSION,
            "warm_up_seconds": readiness.seconds_to_ready,
            "routes": mounted,
        }
        knowledge = services.__dict__.get("knowledge")  # only once warming has opened it
        if knowledge is not None:
            body["index_version"] = knowledge.version
        warnings = _warnings(services, mounted)
        if warnings:
            body["warnings"] = warnings
        return JSONResponse(body)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    routes.append(Route("/healthz", healthz, methods=["GET"]))
    routes.append(Route("/metrics", metrics, methods=["GET"]))
    set_release(VERSION)
    register_gauge(
        "commissioning_index_version",
        "The guidance index version this process answers from (0 until it has loaded one).",
        lambda: _index_version(services),
    )
    register_gauge(
        "commissioning_work_items",
        "Acknowledged work by state (ready, leased, done, failed): a rising ready count means falling behind.",
        lambda: work_queue_depth(services.database),
        label="state",
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if warm_up:
            threading.Thread(
                target=readiness.warm_up, args=(services, freeze_when_warm), name="warm-up", daemon=True
            ).start()
        else:
            readiness.seconds_to_ready = 0.0
            readiness.ready.set()
        log.info("server_started", routes=mounted)
        try:
            yield
        finally:
            hooks.close_all()
            log.info("server_stopped")

    # Every route's body is bounded in size before it is read (handlers.http_guard).
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RequestGuardMiddleware)])
    app.state.readiness = readiness
    app.state.hooks = hooks
    return app
