"""Value types shared by every capability."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from gnomon.errors import AlreadyExists, InvalidInput, NotFound

T = TypeVar("T")

DEFAULT_WORKSPACE = "default"


@dataclass(frozen=True, slots=True)
class Scope:
    """Who acts, and in which workspace. Every store call takes one."""

    workspace: str = DEFAULT_WORKSPACE
    principal: str = "local"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; pass ``next_page_token`` back to get the next one."""

    items: Sequence[T] = field(default_factory=tuple)
    next_page_token: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]


def new_id() -> str:
    return uuid.uuid4().hex


def now_ms() -> int:
    return int(time.time() * 1000)


def encode_offset_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_offset_token(token: str | None) -> int:
    """Offset encoded in a page token; a token that is not one of ours is ``InvalidInput``."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"invalid page token {token!r}") from exc
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput(f"invalid page token {token!r}")
    return offset


def get_or_create(get: Callable[[], T], create: Callable[[], T]) -> T:
    """``get()``, else ``create()``; when another process creates it in between, ``get()``."""
    try:
        return get()
    except NotFound:
        pass
    try:
        return create()
    except AlreadyExists:
        return get()
