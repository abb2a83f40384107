"""``mount_ui(app)``: the pages, their static files and the login form on the API server."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

# Each module has a ``router`` of PageRoutes; the order is the order paths are matched.
PAGE_MODULES = (
    "gnomon.ui.pages_login",
    "gnomon.ui.pages_tracking",
    "gnomon.ui.pages_models",
    "gnomon.ui.pages_datasets",
    "gnomon.ui.pages_deployments",
    "gnomon.ui.pages_monitors",
    "gnomon.ui.pages_pipelines",
    "gnomon.ui.pages_tuning",
    "gnomon.ui.pages_rollouts",
    "gnomon.ui.pages_admin",
)
STATIC = Path(__file__).parent / "static"


def mount_ui(app: FastAPI) -> None:
    """Add every page to ``app`` (outside the OpenAPI document: pages are not the API)."""
    for name in PAGE_MODULES:
        app.include_router(importlib.import_module(name).router, include_in_schema=False)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
