"""A public route cannot take a body without declaring the small limit: the app refuses to
be built, so no route anyone may call reads bodies up to GNOMON_MAX_BODY_BYTES."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, Depends
from pydantic import BaseModel

from gnomon.server.access import Access, require
from gnomon.server.guard import RouteTable, body_kind, small_body


class Body(BaseModel):
    name: str


def _router(openapi_extra: dict[str, Any] | None = None) -> APIRouter:
    router = APIRouter()
    anyone = [Depends(require(Access.PUBLIC))]

    @router.post("/sign-up", dependencies=anyone, openapi_extra=openapi_extra)
    def sign_up(body: Body) -> None: ...

    return router


def test_a_public_route_with_an_undeclared_body_is_refused() -> None:
    with pytest.raises(TypeError, match="'/api/v1/sign-up' takes a body"):
        RouteTable([("/api/v1", _router())])


def test_a_public_route_declaring_a_small_body_is_mounted() -> None:
    (rule,) = RouteTable([("/api/v1", _router(openapi_extra=small_body()))]).rules
    assert rule.access is Access.PUBLIC and body_kind(rule.route) == "small"
