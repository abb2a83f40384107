"""Where a workspace's prediction records and outcomes live: the one place that says so."""

from __future__ import annotations

from gnomon.artifacts import ArtifactStore, open_artifact_store

FOLDER = "predictions"  # beside the workspace's experiments and ``registry``


def predictions_store(
    artifact_root: str, workspace_id: str, s3_endpoint_url: str | None = None
) -> ArtifactStore:
    """The store holding ``records/`` and ``outcomes/`` of the workspace ``workspace_id`` (an
    id, as ``Scope.workspace`` holds it, never a name: a renamed workspace keeps its data)."""
    root = f"{artifact_root.rstrip('/')}/{workspace_id}/{FOLDER}"
    return open_artifact_store(root, s3_endpoint_url=s3_endpoint_url)


__all__ = ["FOLDER", "predictions_store"]
