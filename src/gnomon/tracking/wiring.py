"""The tracking capability's service: over the SQL store (embedded) or the server's routes
(remote). The service runs in the caller's process in both modes, so the fluent API's buffer
validates and batches before anything travels."""

from __future__ import annotations

from gnomon.artifacts import ArtifactStore
from gnomon.services import ServiceRegistry
from gnomon.tracking.entities import Run
from gnomon.tracking.service import TrackingService


def build(services: ServiceRegistry) -> None:
    settings = services.settings
    if services.database is not None:
        from gnomon.tracking.sql import SqlTrackingStore

        def run_artifacts(run: Run) -> ArtifactStore:
            return services.artifact_store(run.artifact_uri)

        # The registry, built next, seals the paths of logged models (seal_with).
        store = SqlTrackingStore(services.database)
        service = TrackingService(store, settings.artifact_root, run_artifacts)
    else:
        from gnomon.tracking.http import HttpRunArtifacts, HttpTrackingStore

        transport = services.transport
        assert transport is not None  # one of the two is always set

        def remote_artifacts(run: Run) -> ArtifactStore:
            return HttpRunArtifacts(transport, run.id)

        service = TrackingService(HttpTrackingStore(transport), "", remote_artifacts)
    services.provide(TrackingService, service)
