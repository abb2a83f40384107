"""Open the services a Settings object points at: embedded (SQL) or remote (a gnomon server),
chosen by the scheme of GNOMON_URI; each capability in the manifest adds its own.

``open_services`` makes the shared plumbing of the mode (the database, or the HTTP
transport) and calls every capability's ``services`` builder in manifest order. A builder
``provide``s the objects it makes, found later by type (``services.get(RegistryService)``),
and ``expose``s the API the SDK hands users (``client.registry``), built per scope.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

from gnomon.capabilities import Capability, capabilities
from gnomon.config import Settings
from gnomon.errors import InvalidInput
from gnomon.services import ServiceRegistry

if TYPE_CHECKING:
    from gnomon.auth.service import AuthService
    from gnomon.client.transport import Transport
    from gnomon.deployments.service import DeploymentService
    from gnomon.registry.registration import Registrar
    from gnomon.registry.service import RegistryService
    from gnomon.store.database import Database
    from gnomon.tracking.service import TrackingService

_SQL_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "postgresql+psycopg"})
_HTTP_SCHEMES = frozenset({"http", "https"})


class Services(ServiceRegistry):
    """The registry with the parts the server and the SDK use most named by capability:
    the one place above every capability, so it may know them all."""

    @property
    def tracking(self) -> TrackingService:
        from gnomon.tracking.service import TrackingService

        return self.get(TrackingService)

    @property
    def auth(self) -> AuthService | None:
        from gnomon.auth.service import AuthService

        return self.find(AuthService)

    @property
    def registry(self) -> RegistryService | None:
        from gnomon.registry.service import RegistryService

        return self.find(RegistryService)

    @property
    def registrar(self) -> Registrar | None:
        from gnomon.registry.registration import Registrar

        return self.find(Registrar)

    @property
    def deployments(self) -> DeploymentService | None:
        from gnomon.deployments.service import DeploymentService

        return self.find(DeploymentService)


def open_services(settings: Settings) -> Services:
    uri = settings.store_uri
    scheme = _scheme(uri)
    # Each capability's wiring is imported when it is built, on first use.
    built = [c for c in capabilities() if c.services is not None]
    builders = {c.name: functools.partial(_build, c) for c in built}
    providers = {kind: builders[c.name] for c in built for kind in c.provides}
    parts = {"builders": list(builders.values()), "providers": providers}
    if scheme in _SQL_SCHEMES:
        return Services(settings, database=_database(uri), **parts)
    if scheme in _HTTP_SCHEMES:
        return Services(settings, transport=_transport(settings), **parts)
    known = ", ".join(sorted({s.split("+")[0] for s in _SQL_SCHEMES | _HTTP_SCHEMES}))
    raise InvalidInput(f"unsupported GNOMON_URI scheme {scheme!r} in {uri!r} (known: {known})")


def is_server(uri: str) -> bool:
    """Whether ``uri`` names a gnomon server (remote mode) rather than a database."""
    return _scheme(uri) in _HTTP_SCHEMES


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0].lower() if "://" in uri else ""


def _build(capability: Capability, services: ServiceRegistry) -> None:
    assert capability.services is not None
    capability.load(capability.services)(services)


def _transport(settings: Settings) -> Transport:
    from gnomon.client.credentials import token_for
    from gnomon.client.transport import Transport

    return Transport(
        settings.store_uri,
        token=settings.token or token_for(settings.home, settings.store_uri),
        workspace=settings.workspace,
        ca_bundle=settings.ca_bundle,
        backoff=settings.retry_backoff_seconds,
    )


_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def close_databases() -> None:
    """Close the pooled connections of every database this process opened; each reconnects
    on its next use. For a process that goes through many stores (a test suite, a notebook
    switching ``set_tracking_uri``): otherwise each keeps a connection, and its files, open."""
    with _databases_lock:
        for db in _databases.values():
            db.dispose()


def _database(uri: str) -> Database:
    """One engine per URI per process, upgraded once: clients share a connection pool."""
    from gnomon.store.database import Database
    from gnomon.store.migrate import ensure_schema

    with _databases_lock:
        db = _databases.get(uri)
        if db is None:
            db = Database(uri)
            ensure_schema(db)
            _databases[uri] = db
        return db
