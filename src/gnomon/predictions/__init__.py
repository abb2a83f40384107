"""Prediction records and outcomes: what model servers answered, and the ground truth
attached to a request id later.

One storage root per workspace, keyed by the workspace **id** as every artifact is
(:func:`gnomon.predictions.storage.predictions_store`)::

    {artifact_root}/{workspace_id}/predictions/records/deployment={d}/date=…/hour=…/part-….parquet
    {artifact_root}/{workspace_id}/predictions/outcomes/deployment={d}/date=…/hour=…/part-….parquet

Files from before they were keyed by id (below the workspace's name) are moved here by
:mod:`gnomon.predictions.legacy`.

Model servers write both (``records``: the background writers), the SDK, the CLI and the API
server check, write and read them (``outcomes``, ``reading``, ``parquet``). The package sits
below ``serving`` and ``deployments`` and imports neither.
"""
