"""JSON responses built by pydantic straight to bytes (NaN and ±inf as strings, see schemas)."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import Response
from pydantic import TypeAdapter

from gnomon._types import Page
from gnomon.wire import PageOut


@functools.cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def wire(model: Any, value: Any, status: int = 200) -> Response:
    adapter = _adapter(model)
    body = adapter.dump_json(adapter.validate_python(value, from_attributes=True))
    return Response(body, status_code=status, media_type="application/json")


def wire_page(model: Any, page: Page[Any]) -> Response:
    payload = {"items": list(page.items), "next_page_token": page.next_page_token}
    return wire(PageOut[model], payload)
