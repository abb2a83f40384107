"""What every page module uses: the viewer dependency, services by type, bounded query
parameters, a listing narrowed by the search box."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request

from gnomon.errors import NotFound
from gnomon.ui.session import Viewer, viewer

T = TypeVar("T")

Looker = Annotated[Viewer, Depends(viewer)]
Name = Annotated[str, Query(max_length=256)]
OptionalText = Annotated[str | None, Query(max_length=2000)]
PageToken = Annotated[str | None, Query(alias="page", max_length=500)]


def service(request: Request, kind: type[T]) -> T:
    """The server's service of ``kind``.

    Raises:
        NotFound: this server was built without that capability.
    """
    found: Any = request.app.state.services.find(kind)
    if found is None:
        raise NotFound(f"this server has no {kind.__name__}")
    return found  # type: ignore[no-any-return]


def _name(item: Any) -> tuple[str]:
    return (item.name,)


def matching(
    items: Iterable[T], q: str | None, texts: Callable[[T], Iterable[str]] = _name
) -> list[T]:
    """``items`` with ``q`` in one of their ``texts`` (by default the name), case ignored;
    every item when ``q`` is empty."""
    if not q:
        return list(items)
    wanted = q.lower()
    return [item for item in items if any(wanted in text.lower() for text in texts(item))]
