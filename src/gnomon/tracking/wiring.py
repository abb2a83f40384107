"""The tracking capability's service: over the SQL store (embedded) or the server's routes
(remote). The service runs in the caller's process in both modes, so the fluent API's buffer
validates and batches before anything travels."""

from __future__ import annotations

from collections.abc import Sequence

from gnomon._types import Scope
from gnomon.artifacts import ArtifactStore
from gnomon.services import ServiceRegistry
from gnomon.tracking.entities import Run
from gnomon.tracking.service import LoggedModelPaths, TrackingService


def build(services: ServiceRegistry) -> None:
    settings = services.settings
    if services.database is not None:
        from gnomon.tracking.sql import SqlTrackingStore

        def run_artifacts(run: Run) -> ArtifactStore:
            return services.artifact_store(run.artifact_uri)

        def sealed(scope: Scope, run_id: str) -> Sequence[str]:
            # The registry records where runs logged models; built on the first write.
            return services.get(LoggedModelPaths)(scope, run_id)

        store = SqlTrackingStore(services.database)
        service = TrackingService(store, settings.artifact_root, run_artifacts, sealed)
    else:
        from gnomon.tracking.http import HttpRunArtifacts, HttpTrackingStore

        transport = services.transport
        assert transport is not None  # one of the two is always set

        def remote_artifacts(run: Run) -> ArtifactStore:
            return HttpRunArtifacts(transport, run.id)

        service = TrackingService(HttpTrackingStore(transport), "", remote_artifacts)
    services.provide(TrackingService, service)
