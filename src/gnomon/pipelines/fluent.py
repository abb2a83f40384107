"""``gnomon.run_pipeline``: run a pipeline from a script or notebook, recorded through the
same client as the fluent tracking calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gnomon.errors import InvalidInput
from gnomon.pipelines.api import PipelinesApi
from gnomon.pipelines.decorators import Pipeline
from gnomon.pipelines.runner import Event, RunResult
from gnomon.pipelines.runner import run_pipeline as _run
from gnomon.pipelines.spec import PipelineSpec


def pipelines_api() -> PipelinesApi:
    from gnomon._gc import collection_paused

    with collection_paused():  # tracking's modules and the client live on (_gc.py)
        from gnomon.tracking.fluent import get_client

        client = get_client(runs=False)  # its steps' runs record no environment
    try:
        return client.pipelines  # type: ignore[return-value]
    except AttributeError:
        raise InvalidInput("this GNOMON_URI offers no pipelines") from None


def run_pipeline(
    pipeline: Pipeline | PipelineSpec,
    params: Mapping[str, Any] | None = None,
    *,
    executor: str = "local",
    cache: bool = True,
    resume: str | None = None,
    parallelism: int | None = None,
    ray_address: str | None = None,
    on_event: Event | None = None,
    raise_on_failure: bool = True,
) -> RunResult:
    """Run a pipeline: ``executor`` is ``"local"`` (processes here) or ``"ray"`` (a local
    ``ray.init`` or ``ray_address``, e.g. ``ray://head:10001``); ``cache=False`` runs every
    step; ``resume`` is a failed run's id whose finished steps are kept.

    Raises ``UserCodeError`` naming the failed steps once every other branch has finished.

    Example:
        >>> result = gnomon.run_pipeline(training, {"epochs": 3})
        >>> result.output("evaluate")
    """
    spec = pipeline.build() if isinstance(pipeline, Pipeline) else pipeline
    return _run(
        spec,
        pipelines_api(),
        params,
        executor=executor,
        cache=cache,
        resume=resume,
        parallelism=parallelism,
        ray_address=ray_address,
        on_event=on_event,
        raise_on_failure=raise_on_failure,
    )


__all__ = ["pipelines_api", "run_pipeline"]
