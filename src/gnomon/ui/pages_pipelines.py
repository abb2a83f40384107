"""The pipelines pages."""

from __future__ import annotations

from fastapi import APIRouter

from gnomon.ui.render import PageRoute

router = APIRouter(route_class=PageRoute)
