"""Where a workspace's prediction records and outcomes live: the one place that says so."""

from __future__ import annotations

import re

from gnomon.artifacts import ArtifactStore, open_artifact_store
from gnomon.checks import shown
from gnomon.errors import InvalidInput

FOLDER = "predictions"  # beside the workspace's experiments and ``registry``
# What auth gives a workspace (``_types.new_id``), or the default's: never a path of its own.
_WORKSPACE_ID = re.compile(r"[0-9a-f]{32}|default")


def predictions_store(
    artifact_root: str,
    workspace_id: str,
    s3_endpoint_url: str | None = None,
    *,
    workspace_name: str | None = None,
) -> ArtifactStore:
    """The store holding ``records/`` and ``outcomes/`` of the workspace ``workspace_id`` (an
    id, as ``Scope.workspace`` holds it, never a name: a renamed workspace keeps its data).

    Given ``workspace_name``, what that workspace's model servers wrote before records were
    keyed by id is moved here first, once per process (:mod:`gnomon.predictions.legacy`).

    Raises:
        InvalidInput: ``workspace_id`` is not a workspace id.
    """
    if not _WORKSPACE_ID.fullmatch(workspace_id):
        raise InvalidInput(
            f"workspace id {shown(workspace_id)} is not a workspace id",
            {"workspace_id": shown(workspace_id)},
        )
    root = f"{artifact_root.rstrip('/')}/{workspace_id}/{FOLDER}"
    store = open_artifact_store(root, s3_endpoint_url=s3_endpoint_url)
    if workspace_name is not None:
        # Imported here: legacy builds on this module.
        from gnomon.predictions.legacy import adopt_once

        adopt_once(artifact_root, workspace_name, store, s3_endpoint_url)
    return store


__all__ = ["FOLDER", "predictions_store"]
