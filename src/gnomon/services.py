"""The registry every capability's wiring fills: what it built, found by type, and the API
it offers SDK users. It imports no capability, so any capability may use it."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
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
    and the server's side) and ``transport`` (remote) is set.

    Capabilities are built on first use, in manifest order: a lookup that misses builds the
    next capability not yet built until one provides it, so ``gnomon experiments list``
    never imports the registry. A capability that declares a kind (by class name) or an API
    (by ``client.<name>``) in ``providers`` is built alone for a lookup of it, ahead of those
    before it: a run's first artifact write asks the registry for its sealed paths without
    building data and features, and ``client.pipelines`` builds tracking and pipelines
    only. Building holds a lock, so server threads share one build.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        database: Database | None = None,
        transport: Transport | None = None,
        builders: Sequence[Callable[[ServiceRegistry], None]] = (),
        providers: Mapping[str, Callable[[ServiceRegistry], None]] | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.transport = transport
        self._workspace_id: str | None = None
        self._parts: dict[type[Any], object] = {}
        self._later: dict[str, Callable[[], object]] = {}  # class name -> its maker
        self._apis: dict[str, tuple[type[Any], Callable[[Scope], object]]] = {}
        self._server_hooks: list[Callable[[ServiceRegistry], None]] = []
        self._pending = list(builders)
        self._providers = dict(providers or {})  # kind's class or API name -> a builder
        self._building = threading.RLock()  # re-entrant: a build may look up an earlier one

    @property
    def embedded(self) -> bool:
        return self.database is not None

    @property
    def workspace_id(self) -> str | None:
        """Embedded: the id of GNOMON_WORKSPACE, found by the first capability built."""
        while self._workspace_id is None and self.embedded and self._build_next():
            pass
        return self._workspace_id

    @workspace_id.setter
    def workspace_id(self, value: str) -> None:
        self._workspace_id = value

    def provide(self, kind: type[T], value: T) -> None:
        self._parts[kind] = value

    def provide_later(self, kind: str, make: Callable[[], object]) -> None:
        """Offer the class named ``kind``, made by ``make`` (an instance of exactly that class)
        on its first lookup. Named, not imported: a capability built for one cheap part (the
        registry, for a run's sealed paths) imports the rest when it is asked for."""
        self._later[kind] = make

    def find(self, kind: type[T]) -> T | None:
        if kind not in self._parts:
            self._build_provider(kind.__name__)
        while kind not in self._parts and kind.__name__ not in self._later and self._build_next():
            pass
        if kind not in self._parts and kind.__name__ in self._later:
            self._make(kind.__name__)
        return cast("T | None", self._parts.get(kind))

    def get(self, kind: type[T]) -> T:
        found = self.find(kind)
        if found is None:
            where = "an embedded store" if self.embedded else "a remote server"
            raise InvalidInput(f"{kind.__name__} is not available with {where}")
        return found

    def expose(self, name: str, kind: type[T], make: Callable[[Scope], T]) -> None:
        """Offer ``client.<name>``: the capability's API Protocol ``kind``, bound to a scope."""
        self._apis[name] = (kind, make)

    def api(self, kind: type[T], scope: Scope) -> T:
        while True:
            for exposed, make in self._apis.values():
                if exposed is kind:
                    return cast("T", make(scope))
            if not self._build_next():
                raise InvalidInput(f"this GNOMON_URI offers no {kind.__name__}")

    def offers(self, name: str) -> bool:
        """Whether some capability exposes ``client.<name>``."""
        if name not in self._apis:
            self._build_provider(name)
        while name not in self._apis and self._build_next():
            pass
        return name in self._apis

    def api_named(self, name: str, scope: Scope) -> object:
        """The API ``expose``d as ``name``; ``AttributeError`` when there is none."""
        if not self.offers(name):
            raise AttributeError(name)
        return self._apis[name][1](scope)

    def on_server(self, hook: Callable[[ServiceRegistry], None]) -> None:
        """Run ``hook`` on the copy the API server uses (``for_server``): where a part must
        behave differently when remote users drive it."""
        self._server_hooks.append(hook)

    def for_server(self) -> Self:
        """Every capability built, then a copy with each capability's server hooks applied;
        the original is unchanged."""
        while self._build_next():
            pass
        for name in list(self._later):
            self._make(name)  # the twin shares every part with the original
        twin = copy.copy(self)
        twin._parts = dict(self._parts)
        for hook in self._server_hooks:
            hook(twin)
        return twin

    def _make(self, name: str) -> None:
        with self._building:
            make = self._later.get(name)
            if make is not None:  # made, then forgotten: a reader always finds it in one
                value = make()
                if type(value).__name__ != name:  # found by its exact class only
                    raise TypeError(f"{name} was provided later as a {type(value).__name__}")
                self._parts[type(value)] = value
                del self._later[name]

    def _build_provider(self, name: str) -> None:
        build = self._providers.get(name)
        if build is None:
            return
        with self._building:
            if build in self._pending:
                self._pending.remove(build)
                build(self)

    def _build_next(self) -> bool:
        with self._building:
            if not self._pending:
                return False
            self._pending.pop(0)(self)
            return True

    def artifact_store(self, root: str) -> ArtifactStore:
        """The artifact store at ``root`` (one per root and endpoint per process)."""
        from gnomon.artifacts import open_cached

        return open_cached(root, self.settings.s3_endpoint_url)
