"""Shared wire-model base for every capability's schemas.py."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Wire(BaseModel):
    """Strict about unknown fields; NaN and ±inf travel as "NaN", "Infinity", "-Infinity"."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings", from_attributes=True)


class PageOut(Wire, Generic[T]):
    items: list[T]
    next_page_token: str | None = None
