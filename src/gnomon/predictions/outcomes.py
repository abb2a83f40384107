"""Outcomes: the ground truth of a request, checked the same way wherever it arrives.

The SDK, the CLI, the API server and the model server all accept outcomes through
:func:`check_outcomes`, so what one accepts the others accept, and what is accepted can be
written. Ground truth loaded in bulk from a warehouse (:func:`write_outcomes`) lands where
model servers write theirs, and joins the records exactly as outcomes posted to them do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gnomon._types import now_ms
from gnomon.artifacts import ArtifactStore
from gnomon.checks import text_problem
from gnomon.errors import InvalidInput, Unavailable
from gnomon.nesting import deeper_than
from gnomon.predictions.columnar import json_text
from gnomon.predictions.entities import Outcome
from gnomon.predictions.records import OutcomeWriter

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    # What log_outcomes takes: request id → value, {"request_id", "value"} dicts, a DataFrame.
    OutcomesInput: TypeAlias = Mapping[str, Any] | Sequence[Mapping[str, Any]] | pd.DataFrame

MAX_OUTCOMES = 100_000  # per SDK call: a bigger load is split by the caller
MAX_OUTCOMES_PER_REQUEST = 10_000  # per HTTP request: the HTTP client sends chunks of this size
MAX_VALUE_DEPTH = 32  # lists and objects nested in one outcome value

OutcomePairs = list[tuple[str, Any]]


def check_outcomes(outcomes: object, limit: int = MAX_OUTCOMES) -> OutcomePairs:
    """``(request_id, value)`` pairs from a mapping request_id → value, a list of
    ``{"request_id", "value"}`` dicts, or a DataFrame with those columns.

    Every path that accepts outcomes (the SDK, the API server, the model server) checks them
    here, so what one accepts the others accept, and what is accepted can be written.

    Raises:
        InvalidInput: not one of those shapes, more than ``limit`` items, or an item whose
            request id is not a non-empty string, whose value is missing, nests lists and
            objects deeper than ``MAX_VALUE_DEPTH`` or cannot be written as JSON (an integer
            beyond 64 bits); the item is named by index.
    """
    count = _count(outcomes)
    if count > limit:  # before building pairs: a huge request costs nothing more
        raise InvalidInput(
            f"at most {limit} outcomes per call, got {count}: split them",
            {"limit": limit, "count": count},
        )
    pairs = _pairs(outcomes)
    for index, (request_id, value) in enumerate(pairs):
        if not isinstance(request_id, str) or not request_id or text_problem(request_id):
            raise InvalidInput(
                f"outcome {index}: request_id must be a non-empty string, got {request_id!r}",
                {"index": index},
            )
        if missing(value):
            raise InvalidInput(
                f"outcome {index} (request {request_id!r}) has no value, got {value!r}",
                {"index": index},
            )
        _check_writable(index, request_id, value)
    return pairs


def _count(outcomes: object) -> int:
    if isinstance(outcomes, str | bytes):
        return 0  # refused by shape
    length = getattr(outcomes, "__len__", None)
    return int(length()) if callable(length) else 0


def _check_writable(index: int, request_id: str, value: object) -> None:
    """The writer stores each value as JSON text: a value it could not write would be lost
    after being acknowledged (and would fail the whole file it was written with)."""
    if isinstance(value, float | bool) or (isinstance(value, str) and not text_problem(value)):
        return  # the common case, always writable
    if isinstance(value, list | dict | tuple) and deeper_than(value, MAX_VALUE_DEPTH):
        raise InvalidInput(
            f"outcome {index} (request {request_id!r}): the value nests lists and objects "
            f"deeper than {MAX_VALUE_DEPTH} levels",
            {"index": index, "max_depth": MAX_VALUE_DEPTH},
        )
    try:
        json_text(value)
    except (TypeError, ValueError) as exc:  # orjson's JSONEncodeError is a TypeError
        raise InvalidInput(
            f"outcome {index} (request {request_id!r}): the value cannot be stored as JSON: {exc}",
            {"index": index},
        ) from None


def write_outcomes(store: ArtifactStore, deployment: str, pairs: OutcomePairs) -> int:
    """Write ``pairs`` as outcomes of ``deployment``; durable when this returns.

    Raises:
        Unavailable: the predictions store refused the write.
    """
    if not pairs:
        return 0
    now = now_ms()
    # One batch for the whole call: a bulk load becomes one file, not one per 5,000 rows.
    writer = OutcomeWriter(store, max_batch=len(pairs))
    writer.submit([Outcome(rid, now, deployment, value) for rid, value in pairs])
    try:
        writer.close()
    except Exception as exc:  # a storage error, not the caller's: 503, never a 500
        raise Unavailable(
            f"could not write the outcomes of deployment {deployment!r}: {exc}"
        ) from exc
    return len(pairs)


def _pairs(outcomes: object) -> list[tuple[Any, Any]]:
    """The items as given, unchecked."""
    if isinstance(outcomes, Mapping):
        return list(outcomes.items())
    if _is_frame(outcomes):
        return _frame_pairs(outcomes)
    if isinstance(outcomes, Sequence) and not isinstance(outcomes, str | bytes):
        pairs: list[tuple[Any, Any]] = []
        for index, item in enumerate(outcomes):
            if not isinstance(item, Mapping):
                raise InvalidInput(
                    f'outcome {index} must be a {{"request_id": ..., "value": ...}} dict, '
                    f"got {item!r}",
                    {"index": index},
                )
            # A missing key reads as None, which the checks name like any other bad value.
            pairs.append((item.get("request_id"), item.get("value")))
        return pairs
    raise InvalidInput(
        "outcomes must be a mapping request_id → value, a list of "
        f'{{"request_id", "value"}} dicts or a DataFrame, got {type(outcomes).__name__}'
    )


def _is_frame(value: object) -> bool:
    # Checked by name so that callers passing a dict or a list never import pandas.
    return any(
        cls.__module__.startswith("pandas") and cls.__name__ == "DataFrame"
        for cls in type(value).__mro__
    )


def _frame_pairs(frame: Any) -> list[tuple[Any, Any]]:
    absent = [name for name in ("request_id", "value") if name not in frame.columns]
    if absent:
        raise InvalidInput(
            f"the outcomes frame has no {' or '.join(absent)} column "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
    values = frame["value"].astype(object).where(frame["value"].notna(), None).tolist()
    return list(zip(frame["request_id"].tolist(), values, strict=True))


def missing(value: object) -> bool:
    """Whether ``value`` stands for no value: None, NaN or an infinity."""
    # Non-finite floats too: JSON has no NaN or infinity, so they would be stored as null.
    return value is None or (isinstance(value, float) and not math.isfinite(value))


__all__ = [
    "MAX_OUTCOMES",
    "MAX_OUTCOMES_PER_REQUEST",
    "MAX_VALUE_DEPTH",
    "OutcomePairs",
    "check_outcomes",
    "missing",
    "write_outcomes",
]
