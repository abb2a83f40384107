"""Which served model answers a request: the route table of a server.

A table is an immutable snapshot. The live arms split traffic by weight — at random for a
canary, by a stable hash of the A/B key's value for an A/B test, so the same user always
gets the same arm, in every worker and after every restart. Shadows get a copy of every
request. A server swaps in a new table when its deployment changes; requests already
routed finish on the arm they got.
"""

from __future__ import annotations

import functools
import random
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import pandas as pd
from starlette.concurrency import run_in_threadpool

from gnomon.modelfolder import LoadedModel
from gnomon.serving.batching import BatchConfig, Batcher
from gnomon.serving.enforce import Policy
from gnomon.serving.inputs import MAX_COLUMNS
from gnomon.serving.params import predict_with_params

# Columns a request may carry beyond the model's inputs (and the A/B key): fields a client
# sends along that the warn policy ignores. Anything wider is refused before it is parsed.
EXTRA_COLUMNS: Final = 32


@dataclass
class ServedModel:
    """What a single-model server answers with: the model and where it came from."""

    model: LoadedModel
    name: str
    version: int | None
    uri: str
    deployment: str
    policy: Policy = Policy.REJECT
    batching: BatchConfig | None = field(default_factory=BatchConfig)
    workspace_id: str | None = None  # whose predictions store its records go to


@dataclass(eq=False)
class ServedArm:
    """One loaded model version with its role, weight and (if batched) its own batcher."""

    model: LoadedModel
    name: str
    version: int | None
    uri: str
    role: str = "primary"
    weight: int = 100
    batcher: Batcher | None = None

    @property
    def version_label(self) -> str:
        return str(self.version) if self.version is not None else "local"

    async def predict(
        self, frame: pd.DataFrame, offload: bool = False, params: dict[str, Any] | None = None
    ) -> Any:
        """The model's answer; ``offload`` (a large request) predicts on a worker thread even
        when unbatched, so that it does not hold up the event loop. A request with inference
        ``params`` (the model must take them) is never batched: its call is its own."""
        if params is not None:
            call = functools.partial(predict_with_params, self.model, frame, params)
            return await run_in_threadpool(call) if offload else call()
        if self.batcher is not None:
            return await self.batcher.predict(frame)
        if offload:
            return await run_in_threadpool(self.model.predict, frame)
        return self.model.predict(frame)


@dataclass(frozen=True)
class RouteTable:
    """The arms a server routes to, as of ``revision`` of ``deployment`` in the workspace
    ``workspace_id`` (which keys its records; None where nothing was loaded through a store)."""

    deployment: str
    live: tuple[ServedArm, ...]
    shadows: tuple[ServedArm, ...] = ()
    ab_key: str | None = None
    policy: Policy = Policy.REJECT
    revision: int | None = None
    versions: tuple[tuple[str, int | None], ...] = ()  # what each arm resolved to
    batch_config: BatchConfig | None = None
    workspace_id: str | None = None

    @cached_property  # read by every request
    def primary(self) -> ServedArm:
        return next(arm for arm in self.live if arm.role == "primary")

    @property
    def arms(self) -> tuple[ServedArm, ...]:
        return (*self.live, *self.shadows)

    @cached_property  # read by every request
    def max_columns(self) -> int:
        """The most columns a request may name: the widest live arm's inputs, the A/B key and
        ``EXTRA_COLUMNS`` more; ``MAX_COLUMNS`` when an arm has no contract to say."""
        widths = []
        for arm in self.live:
            contract = arm.model.contract
            if contract is None:
                return MAX_COLUMNS
            widths.append(len(contract.inputs))
        return max(widths) + (self.ab_key is not None) + EXTRA_COLUMNS

    def pick(self, headers: Mapping[str, str], frame: pd.DataFrame) -> ServedArm:
        """The live arm for a request: sticky by the A/B key when there is one, else at
        random by weight. A request without the A/B key goes to the primary."""
        if len(self.live) == 1:
            return self.live[0]
        if self.ab_key is not None:
            value = ab_value(self.ab_key, headers, frame)
            if value is None:
                return self.primary
            return self._by_bucket(bucket(self.deployment, value))
        return self._by_bucket(random.randrange(100))

    def _by_bucket(self, point: int) -> ServedArm:
        total = 0
        for arm in self.live:
            total += arm.weight
            if point < total:
                return arm
        return self.primary

    def with_batching(
        self,
        config: BatchConfig,
        enabled: bool | None = None,
        reuse: Mapping[tuple[str, int | None], Batcher] | None = None,
    ) -> None:
        """Give live arms their own batcher: all of them (``enabled`` True), none (False), or
        (None) those whose model does not declare it must not be batched. An arm whose
        (name, version) is in ``reuse`` keeps that batcher, already running with ``config``.
        Shadows run on their own thread, unbatched."""
        for arm in self.live:
            wanted = arm.model.batchable if enabled is None else enabled
            if wanted and arm.batcher is None:
                kept = reuse.get((arm.name, arm.version)) if reuse else None
                arm.batcher = kept or Batcher(arm.model.predict, config)


def ab_value(key: str, headers: Mapping[str, str], frame: pd.DataFrame) -> str | None:
    """The A/B key's value: a request header of that name, else the first row's field."""
    header = headers.get(key)
    if header is not None:
        return header
    if key in frame.columns and len(frame):
        value = frame[key].iloc[0]
        return None if pd.isna(value) else str(value)
    return None


def bucket(deployment: str, value: str) -> int:
    """0 to 99, the same for a value in every process (``hash()`` is salted per process)."""
    return zlib.crc32(f"{deployment}\x00{value}".encode()) % 100


def single_table(served: ServedModel) -> RouteTable:
    """The table of a server of one model (``gnomon serve URI``)."""
    arm = ServedArm(served.model, served.name, served.version, served.uri)
    table = RouteTable(
        served.deployment,
        (arm,),
        policy=served.policy,
        versions=((served.name, served.version),),
        batch_config=served.batching,
        workspace_id=served.workspace_id,
    )
    if served.batching is not None:  # load_served already weighed the model's declaration
        table.with_batching(served.batching, enabled=True)
    return table
