"""``create_app(settings, services)``: the gnomon server as an ASGI application."""

from __future__ import annotations

import importlib
import os

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from gnomon._version import __version__
from gnomon.backends import Services, open_services
from gnomon.capabilities import router_modules
from gnomon.config import Settings
from gnomon.errors import InvalidInput
from gnomon.server import health
from gnomon.server.errors import answer_unexpected, install_error_handlers
from gnomon.server.guard import RequestGuard, RouteTable
from gnomon.server.loopback import LoopbackHostOnly
from gnomon.server.openapi import document_errors
from gnomon.ui.app import mount_ui
from gnomon.web.boundary import ErrorBoundary
from gnomon.web.middleware import API_PREFIX, HttpMetrics, ObservabilityMiddleware
from gnomon.web.mlflow_errors import MlflowErrorShape

NO_AUTH_ENV = "_GNOMON_NO_AUTH"  # internal: passes --no-auth to worker processes


def create_app(
    settings: Settings | None = None, services: Services | None = None, *, no_auth: bool = False
) -> FastAPI:
    """Build the server for ``settings`` (default: from the environment).

    ``no_auth`` makes every caller a global administrator; only for a server bound to
    loopback (``gnomon server --no-auth`` enforces that).
    """
    settings = settings or Settings()
    services = services or open_services(settings)
    if services.auth is None:
        raise InvalidInput(
            "the server needs a SQL metadata store (GNOMON_URI sqlite:// or postgresql://)"
        )
    services = services.for_server()  # every capability built, with its server-side hooks
    app = FastAPI(
        title="gnomon",
        version=__version__,
        description="Experiment tracking and the rest of the model lifecycle.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        redirect_slashes=False,  # no 307 to a neighbouring path: every route answers as documented
    )
    app.state.settings = settings
    app.state.services = services
    app.state.database = services.database
    app.state.authenticator = services.auth
    app.state.no_auth = no_auth
    app.state.metrics = HttpMetrics(CollectorRegistry())
    install_error_handlers(app)
    # MLflow's API lives at MLflow's paths, the rest under /api/v1.
    mounted = mounted_routers()
    for prefix, router in mounted:
        app.include_router(router, prefix=prefix)
    routes = RouteTable(mounted)
    mount_ui(app)  # the pages: outside the API's table, they check their own session
    document_errors(app, routes.rules)
    # Outermost last: request ids and metrics see every answer, the 500s included.
    app.add_middleware(
        RequestGuard,
        table=routes,
        limit=settings.max_body_bytes,
        upload_limit=settings.max_artifact_bytes,
    )
    app.add_middleware(ErrorBoundary, answer=answer_unexpected)
    app.add_middleware(MlflowErrorShape)
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)
    if no_auth:  # outermost: nothing answers a rebound name, not even /healthz
        app.add_middleware(LoopbackHostOnly)
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn workers: settings from GNOMON_*, --no-auth from the parent."""
    return create_app(Settings(), no_auth=os.environ.get(NO_AUTH_ENV) == "1")


def mounted_routers() -> list[tuple[str, APIRouter]]:
    """(prefix, router) of every route the server answers: health's, then each capability's
    from the manifest, under /api/v1 unless its module names a ``PREFIX`` of its own."""
    return [("", health.router)] + [_mounted(m) for m in router_modules()]


def _mounted(name: str) -> tuple[str, APIRouter]:
    module = importlib.import_module(name)
    router: APIRouter = module.router
    return getattr(module, "PREFIX", API_PREFIX), router
