"""Open the services a Settings object points at: SQL (embedded) or HTTP (a remote server),
chosen by the scheme of GNOMON_URI from a map of lazy import strings."""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gnomon.artifacts import ArtifactStore, open_artifact_store
from gnomon.config import Settings
from gnomon.errors import InvalidInput
from gnomon.tracking.entities import Run
from gnomon.tracking.service import TrackingService

if TYPE_CHECKING:
    from gnomon.auth.service import AuthService
    from gnomon.client.transport import Transport
    from gnomon.deployments.service import DeploymentService
    from gnomon.registry.registration import Registrar
    from gnomon.registry.service import RegistryService
    from gnomon.store.database import Database

_BACKENDS = {
    "sqlite": "gnomon.backends:open_sql",
    "postgresql": "gnomon.backends:open_sql",
    "postgres": "gnomon.backends:open_sql",
    "postgresql+psycopg": "gnomon.backends:open_sql",
    "http": "gnomon.backends:open_http",
    "https": "gnomon.backends:open_http",
}


@dataclass(frozen=True, slots=True)
class Services:
    """Every capability's service for one backend."""

    tracking: TrackingService
    auth: AuthService | None = None  # server side only: remote clients reach it over HTTP
    database: Database | None = None
    transport: Transport | None = None
    workspace_id: str | None = None  # embedded: the id of GNOMON_WORKSPACE
    registry: RegistryService | None = None
    registrar: Registrar | None = None  # copies models into registry storage (server side)
    registry_client: Any = None  # remote: the HttpRegistryClient behind ``Client.registry``
    deployments: DeploymentService | None = None
    deployments_client: Any = None  # remote: the HttpDeploymentClient behind ``Client.deployments``


def open_services(settings: Settings) -> Services:
    uri = settings.store_uri
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    target = _BACKENDS.get(scheme)
    if target is None:
        known = ", ".join(sorted({s.split("+")[0] for s in _BACKENDS}))
        raise InvalidInput(f"unsupported GNOMON_URI scheme {scheme!r} in {uri!r} (known: {known})")
    module, _, factory = target.partition(":")
    opener: Callable[[Settings], Services] = getattr(importlib.import_module(module), factory)
    return opener(settings)


def open_sql(settings: Settings) -> Services:
    from gnomon.auth.service import AuthService
    from gnomon.auth.sql import SqlAuthStore
    from gnomon.auth.sql_audit import SqlAuditStore
    from gnomon.deployments.service import DeploymentService
    from gnomon.deployments.sql import SqlDeploymentStore
    from gnomon.registry.registration import Registrar
    from gnomon.registry.service import RegistryService
    from gnomon.registry.sql import SqlRegistryStore
    from gnomon.tracking.sql import SqlTrackingStore

    db = _database(settings.store_uri)
    auth_store = SqlAuthStore(db)
    workspace_id = auth_store.get_workspace(settings.workspace).id  # NotFound names it
    endpoint = settings.s3_endpoint_url

    def run_artifacts(run: Run) -> ArtifactStore:
        return _artifact_store(run.artifact_uri, endpoint)

    registry = RegistryService(SqlRegistryStore(db))
    tracking = TrackingService(
        SqlTrackingStore(db), settings.artifact_root, run_artifacts, registry.logged_model_paths
    )
    audit = SqlAuditStore(db)
    auth = AuthService(auth_store, audit, audit_retention_days=settings.audit_retention_days)
    registrar = Registrar(
        tracking, registry, settings.artifact_root, lambda root: _artifact_store(root, endpoint)
    )
    return Services(
        tracking=tracking,
        auth=auth,
        database=db,
        workspace_id=workspace_id,
        registry=registry,
        registrar=registrar,
        deployments=DeploymentService(SqlDeploymentStore(db), registry),
    )


def open_http(settings: Settings) -> Services:
    from gnomon.client.credentials import token_for
    from gnomon.client.transport import Transport
    from gnomon.deployments.http import HttpDeploymentClient
    from gnomon.registry.http import HttpRegistryClient
    from gnomon.tracking.http import HttpRunArtifacts, HttpTrackingStore

    transport = Transport(
        settings.store_uri,
        token=settings.token or token_for(settings.home, settings.store_uri),
        workspace=settings.workspace,
        ca_bundle=settings.ca_bundle,
        backoff=settings.retry_backoff_seconds,
    )

    def run_artifacts(run: Run) -> ArtifactStore:
        return HttpRunArtifacts(transport, run.id)

    tracking = TrackingService(HttpTrackingStore(transport), "", run_artifacts)
    registry_client = HttpRegistryClient(transport, settings.workspace)
    return Services(
        tracking=tracking,
        transport=transport,
        registry_client=registry_client,
        deployments_client=HttpDeploymentClient(transport),
    )


_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


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


@functools.lru_cache(maxsize=256)
def _artifact_store(root: str, endpoint: str | None) -> ArtifactStore:
    return open_artifact_store(root, s3_endpoint_url=endpoint)
