"""What the standard components share: a tracking run nested under the pipeline's, dataset
references made versions, and ``module:attr`` references imported."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gnomon.data.entities import DatasetVersion
from gnomon.errors import InvalidInput
from gnomon.pipelines.context import current_step

if TYPE_CHECKING:
    from gnomon.data.api import DatasetsApi
    from gnomon.sdk import Client
    from gnomon.tracking.fluent import ActiveRun

COMPONENT_TAG = "gnomon.component"  # which component made a run: train, evaluate, register
PIPELINE_RUN_TAG = "gnomon.pipeline.run"
_PINNED = re.compile(r"@\d+$")


def client() -> Client:
    import gnomon

    return gnomon.get_client()


def datasets() -> DatasetsApi:
    try:
        return client().datasets  # type: ignore[return-value]
    except AttributeError:
        raise InvalidInput("this GNOMON_URI offers no datasets") from None


@contextmanager
def step_run(component: str) -> Iterator[ActiveRun]:
    """The active tracking run for a component's logging. In a pipeline it is nested under
    the pipeline run's own run and named after the node, so it sits beside the step's record
    in tracking; outside one it is an ordinary run (nested under an active one, if any)."""
    import gnomon

    context = current_step()
    if context is None or context.tracking_run_id is None:
        with gnomon.start_run(component, nested=True, tags={COMPONENT_TAG: component}) as run:
            yield run
        return
    found = client()
    parent = found.get_run(context.tracking_run_id)
    tags = {COMPONENT_TAG: component, PIPELINE_RUN_TAG: context.run_id}
    created = found.create_run(
        parent.experiment_id, context.node, tags=tags, parent_run_id=parent.id
    )
    with gnomon.start_run(run_id=created.id, nested=True) as run:
        yield run


def version_of(dataset: DatasetVersion | str, *, pinned: bool = False) -> DatasetVersion:
    """The dataset version a step was given: a version object, or a ``NAME@V`` / ``NAME``
    reference looked up now.

    ``pinned`` is for cached steps: inside a pipeline they refuse a floating reference, whose
    cache entry would keep the version it named on the first run."""
    if isinstance(dataset, DatasetVersion):
        return dataset
    if not isinstance(dataset, str) or not dataset.strip():
        raise InvalidInput(
            f"a dataset is a version (from ingest or dataset_version) or a reference "
            f"'NAME@VERSION', not {str(dataset)[:80]!r}"
        )
    if pinned and current_step() is not None and not _PINNED.search(dataset):
        raise InvalidInput(
            f"{dataset[:200]!r} names no version, and this step is cached: pin one "
            f"('{dataset.partition('@')[0][:200]}@3') or pass the output of dataset_version, "
            "which looks the latest up on every run"
        )
    return datasets().version(dataset)


def imported(ref: str, what: str) -> Any:
    """The object ``module:attr`` (or ``package.module.Attr``) names: user code, imported in
    the worker that runs the step."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidInput(f"{what} is given as 'module:attr', not {str(ref)[:80]!r}")
    module, sep, attr = ref.partition(":")
    if not sep:
        module, _, attr = ref.rpartition(".")
    if not module or not attr:
        raise InvalidInput(f"{what} is given as 'module:attr', not {ref[:200]!r}")
    try:
        target: Any = importlib.import_module(module)
    except ImportError as exc:
        raise InvalidInput(f"{what} {ref[:200]!r}: cannot import {module[:200]!r}: {exc}") from None
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise InvalidInput(f"{what} {ref[:200]!r}: {module!r} has no {attr[:200]!r}") from None
    return target
