"""The registry every capability's wiring fills: what it built, found by type, and the API
it offers SDK users. It imports no capability, so any capability may use it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from gnomon._types import Scope
from gnomon.artifacts import ArtifactStore
from gnomon.config import Settings
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.client.transport import Transport
    from gnomon.store.database import Database

T = TypeVar("T")


class ServiceRegistry:
    """Every capability's services for one backend: exactly one of ``database`` (embedded,
    and the server's side) and ``transport`` (remote) is set."""

    def __init__(
        self,
        settings: Settings,
        *,
        database: Database | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.transport = transport
        self.workspace_id: str | None = None  # embedded: the id of GNOMON_WORKSPACE
        self._parts: dict[type[Any], object] = {}
        self._apis: dict[str, tuple[type[Any], Callable[[Scope], object]]] = {}

    @property
    def embedded(self) -> bool:
        return self.database is not None

    def provide(self, kind: type[T], value: T) -> None:
        self._parts[kind] = value

    def find(self, kind: type[T]) -> T | None:
        return cast("T | None", self._parts.get(kind))

    def get(self, kind: type[T]) -> T:
        found = self.find(kind)
        if found is None:
            where = "an embedded store" if self.embedded else "a remote server"
            raise InvalidInput(f"{kind.__name__} is not available with {where}")
        return found

    def replaced(self, kind: type[T], value: T) -> Self:
        """A copy with one part swapped; the original is unchanged."""
        twin = copy.copy(self)
        twin._parts = {**self._parts, kind: value}
        return twin

    def expose(self, name: str, kind: type[T], make: Callable[[Scope], T]) -> None:
        """Offer ``client.<name>``: the capability's API Protocol ``kind``, bound to a scope."""
        self._apis[name] = (kind, make)

    def api(self, kind: type[T], scope: Scope) -> T:
        for exposed, make in self._apis.values():
            if exposed is kind:
                return cast("T", make(scope))
        raise InvalidInput(f"this GNOMON_URI offers no {kind.__name__}")

    def api_named(self, name: str, scope: Scope) -> object:
        """The API ``expose``d as ``name``; ``AttributeError`` when there is none."""
        if name not in self._apis:
            raise AttributeError(name)
        return self._apis[name][1](scope)

    def artifact_store(self, root: str) -> ArtifactStore:
        """The artifact store at ``root`` (one per root and endpoint per process)."""
        from gnomon.artifacts import open_cached

        return open_cached(root, self.settings.s3_endpoint_url)
