"""LineageService (being written)."""

from __future__ import annotations

from typing import Any


class LineageService:
    def __init__(self, *parts: Any) -> None:
        self.parts = parts
