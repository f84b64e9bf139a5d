"""The one ASGI server: Slack's and Teams' endpoints and ``/healthz``, served by uvicorn.

Each chat platform adds its routes through a *route provider*: a function
``provider(services, hooks) -> list of Starlette routes`` named in
:data:`ROUTE_PROVIDERS` as ``"module:function"``. A provider returns no routes
when its platform is not configured, and registers anything to close on
shutdown with ``hooks.on_shutdown``. To add Teams' ``POST /api/messages``,
append its provider here, e.g. ``"handlers.teams.routes:teams_route_provider"``.

``/healthz`` answers 503 until :meth:`Services.warm_up` has loaded the index and
the embedding model (a cold model makes the first burst of requests slow), then
200 with a small JSON body. Warming happens in a thread, so the server accepts
connections, and answers Slack, from the first second.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from bot.app import Services

log = structlog.get_logger(__name__)

# Each platform's routes, as "module:function". Order does not matter; paths must not clash.
ROUTE_PROVIDERS: list[str] = [
    "handlers.slack.routes:slack_route_provider",
    "handlers.teams.routes:teams_route_provider",
]


class ServerHooks:
    """What a route provider may ask of the server: things to close when it stops."""

    def __init__(self) -> None:
        self._closers: list[Callable[[], None]] = []

    def on_shutdown(self, close: Callable[[], None]) -> None:
        self._closers.append(close)

    def close_all(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception as error:  # noqa: BLE001 - one part failing to close must not stop the others
                log.warning("server_close_failed", error=type(error).__name__)


class RouteProvider(Protocol):
    def __call__(self, services: Services, hooks: ServerHooks) -> Sequence[BaseRoute]: ...


def load_route_provider(name: str) -> RouteProvider:
    module_name, _, function = name.partition(":")
    return getattr(importlib.import_module(module_name), function)


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


def build_server(
    services: Services,
    route_providers: Sequence[RouteProvider | str] | None = None,
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
        resolved = load_route_provider(provider) if isinstance(provider, str) else provider
        provided = list(resolved(services, hooks))
        routes.extend(provided)
        mounted.extend(getattr(route, "path", "?") for route in provided)

    async def healthz(request: Request) -> JSONResponse:
        if readiness.ready.is_set():
            return JSONResponse({"status": "ready", "warm_up_seconds": readiness.seconds_to_ready, "routes": mounted})
        status = "failed" if readiness.failed else "warming_up"
        return JSONResponse({"status": status}, status_code=503)

    routes.append(Route("/healthz", healthz, methods=["GET"]))

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

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.readiness = readiness
    app.state.hooks = hooks
    return app
