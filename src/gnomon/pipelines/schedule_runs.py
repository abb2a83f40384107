"""Running a claimed tick: import the schedule's pipeline, give it its parameters (and what
the trigger offers, where the pipeline declares it), run it, and say how it went.

This imports and runs user code: only ``gnomon worker`` calls it, never the API server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

from gnomon.errors import GnomonError, InvalidInput
from gnomon.pipelines.api import PipelinesApi
from gnomon.pipelines.entities import NewPipelineRun, PipelineRun
from gnomon.pipelines.schedule_entities import NewSchedule, TickStatus
from gnomon.pipelines.spec import PipelineSpec

logger = logging.getLogger("gnomon.pipelines.schedules")


def offered(new: NewSchedule) -> set[str]:
    """Parameters every tick of ``new`` gives a pipeline that declares them."""
    each = []
    if new.cron is not None:
        each.append({"dataset"} if new.dataset is not None else set())
    if new.dataset is not None:
        each.append({"dataset"})
    if new.monitor is not None:
        each.append({"alert"})
    return set.intersection(*each) if each else set()


def check_params(spec: PipelineSpec, params: Mapping[str, Any], new: NewSchedule) -> None:
    """Refuse a parameter the pipeline lacks, or a required one that no tick would give."""
    known = {param.name for param in spec.params}
    unknown = sorted(set(params) - known)
    if unknown:
        raise InvalidInput(
            f"pipeline {spec.name!r} has no parameter {unknown[0]!r}; "
            f"it takes {', '.join(sorted(known)) or 'none'}"
        )
    given = set(params) | offered(new)
    for param in spec.params:
        if param.required and param.name not in given:
            raise InvalidInput(
                f"pipeline {spec.name!r} needs parameter {param.name!r}: give -p {param.name}=VALUE"
            )


def run_tick(
    ref: str,
    params: Mapping[str, Any],
    offers: Mapping[str, Any],
    api: PipelinesApi,
    *,
    executor: str,
    trigger: str,
    started: Callable[[str], None],
) -> tuple[TickStatus, str | None, str | None]:
    """Run the pipeline; ``(status, run id, message)``, whatever it raised."""
    from gnomon.pipelines.loading import load_pipeline
    from gnomon.pipelines.runner import run_pipeline

    recording = _Recording(api, started)
    try:
        spec = load_pipeline(ref).build()
        declared = {param.name for param in spec.params}
        given = {**params, **{k: v for k, v in offers.items() if k in declared}}
        result = run_pipeline(
            spec,
            cast(PipelinesApi, recording),
            given,
            executor=executor,
            trigger=trigger,
            raise_on_failure=False,
        )
    except Exception as exc:  # user code, a bad parameter, an executor that cannot start
        logger.warning("%s: pipeline %s failed to run: %s", trigger, ref, exc)
        message = exc.message if isinstance(exc, GnomonError) else f"{type(exc).__name__}: {exc}"
        return "failed", recording.run_id, message
    return result.run.status, result.run.id, result.run.error


class _Recording:
    """``client.pipelines``, telling ``started`` the run's id as soon as it has one."""

    def __init__(self, api: PipelinesApi, started: Callable[[str], None]) -> None:
        self._api = api
        self._started = started
        self.run_id: str | None = None

    def start_run(self, new: NewPipelineRun) -> PipelineRun:
        run = self._api.start_run(new)
        self.run_id = run.id
        self._started(run.id)
        return run

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)


__all__ = ["check_params", "offered", "run_tick"]
