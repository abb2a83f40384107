"""What is recorded: answered requests, their rows as records, and outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One answered row: what came in, what went out, and how long it took.

    ``inputs`` is one row (column → value); ``outputs`` is JSON-safe (a number, a list, a dict).
    ``role`` is ``"primary"``, or ``"shadow"``/``"canary"`` for a model answering alongside.
    """

    request_id: str
    time_ms: int
    deployment: str
    model_name: str
    model_version: int | None
    inputs: dict[str, Any]
    outputs: Any
    latency_ms: float
    role: str = "primary"
    violations: list[dict[str, Any]] | None = None


class AnsweredRequest(NamedTuple):
    """One answered request as the server had it; the writer thread turns it into records.

    A NamedTuple, not a dataclass: the server builds one per request on its hot path.

    Attributes:
        request_id: the request's id; a request of several rows gets ``<id>:<row>`` ids.
        time_ms: when it was answered, in ms since the epoch (picks the hour partition).
        deployment: the deployment that answered.
        model_name: the model that answered.
        model_version: its version, None for a local model.
        role: ``"primary"``, ``"shadow"``, ``"canary"`` or ``"ab"``.
        frame: the input rows, as given to the model; must not be modified afterwards.
        outputs: one value per row (a list, or an array whose rows are the values).
        latency_ms: the whole request's latency, shared equally by its rows.
        violations: contract violations as dicts with a ``"row"`` key; each row's own go
            with it (column-level ones, row -1, are not recorded).
    """

    request_id: str
    time_ms: int
    deployment: str
    model_name: str
    model_version: int | None
    role: str
    frame: pd.DataFrame
    outputs: Sequence[Any] | np.ndarray[Any, Any]
    latency_ms: float
    violations: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The ground truth for ``request_id``, known some time after the prediction."""

    request_id: str
    time_ms: int
    deployment: str
    value: Any


__all__ = ["AnsweredRequest", "Outcome", "PredictionRecord"]
