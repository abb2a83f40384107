"""Value types shared by every capability."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from gnomon.checks import INT64_MAX
from gnomon.errors import AlreadyExists, InvalidInput, NotFound

T = TypeVar("T")

DEFAULT_WORKSPACE = "default"
MAX_PAGE_TOKEN_LENGTH = 100  # ours are under 50 characters


@dataclass(frozen=True, slots=True)
class Scope:
    """Who acts, and in which workspace. Every store call takes one.

    ``workspace`` is the workspace's id, never its name, in every mode: embedded clients find
    it when they open, the server when it admits a request (the header names the workspace),
    and remote clients ask the server once. The default workspace's id is ``default``.
    """

    workspace: str = DEFAULT_WORKSPACE  # an id
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
    """Offset encoded in a page token; a token that is not one of ours is ``InvalidInput``.

    The token is read only after its length is checked, so no client can make the JSON
    decoder recurse deeply or build a huge number; the offset must fit an SQL ``OFFSET``.
    """
    if not token:
        return 0
    if not isinstance(token, str):
        raise _bad_token(token, "is not a string")
    if len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise _bad_token(token, f"is longer than {MAX_PAGE_TOKEN_LENGTH} characters")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        raise _bad_token(token, "is not a token a listing returned") from None
    offset = decoded.get("offset") if isinstance(decoded, dict) else None
    if isinstance(offset, bool) or not isinstance(offset, int) or len(decoded) != 1:
        raise _bad_token(token, "is not a token a listing returned")
    if not 0 <= offset <= INT64_MAX:
        raise _bad_token(token, f"holds offset {offset}, outside 0 to {INT64_MAX}")
    return offset


def _bad_token(token: object, why: str) -> InvalidInput:
    shown = token[:40] if isinstance(token, str) else token
    return InvalidInput(f"invalid page token: page_token {shown!r} {why}", {"field": "page_token"})


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
