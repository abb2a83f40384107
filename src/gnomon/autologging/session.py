"""The run an autologged call logs to, and what every library logs the same way.

Inside an active run the call logs to it; otherwise it starts a run named after the
estimator and ends it when the call returns (FAILED if the call raised), as MLflow does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gnomon import checks
from gnomon.autologging.patching import logger, safely
from gnomon.autologging.redaction import redacted
from gnomon.errors import InvalidInput
from gnomon.registry import fluent as registry_fluent
from gnomon.tracking import fluent
from gnomon.tracking.entities import RunStatus
from gnomon.tracking.validation import PARAM_VALUE_LENGTH

SOURCE_TAG = "gnomon.autolog"  # which library's autologging made or filled the run
DATASET_ROWS_SAMPLED = 100_000  # the digest hashes at most this many rows, evenly spaced
EXAMPLE_ROWS = 1_000  # training rows a model's contract is inferred from


@dataclass(frozen=True, slots=True)
class Options:
    """What ``autolog`` was asked to log; one set per library."""

    log_models: bool = True
    log_datasets: bool = True
    max_tuning_runs: int = 50
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AutologRun:
    """The run one autologged call writes to; ``owned`` when the call started it."""

    library: str
    run: fluent.ActiveRun
    owned: bool

    def finish(self, failed: bool = False) -> None:
        if self.owned:
            status = RunStatus.FAILED if failed else RunStatus.FINISHED
            safely("end the run", fluent.end_run, status)


def open_run(library: str, name: str) -> AutologRun:
    """The active run, or a new one named ``name`` that the caller must ``finish``."""
    current = fluent.active_run()
    if current is not None:
        run = AutologRun(library, current, owned=False)
    else:
        run = AutologRun(library, fluent.start_run(name=name), owned=True)
    safely("tag the run", fluent.set_tag, SOURCE_TAG, library)
    return run


def log_params(params: Mapping[str, Any]) -> None:
    """Log ``params`` as text, each cut to what a param holds, a secret's as ``***`` (see
    ``redaction``); values already logged with another value (a refit in the same run) are
    skipped rather than failing the fit."""
    current = fluent.active_run()
    if current is None:
        return
    fresh = {}
    for key, value in params.items():
        text = value if isinstance(value, str) else repr(value)
        text = redacted(key, text[:PARAM_VALUE_LENGTH])
        if current._params.get(key, text) == text and _is_param_key(str(key)):
            fresh[str(key)] = text
    if fresh:
        safely("log params", fluent.log_params, fresh)


def _is_param_key(key: str) -> bool:
    """Whether ``key`` can be a param's key; one that cannot (a pipeline step named with a
    ``!``) is skipped with a warning rather than losing the whole batch."""
    try:
        checks.key("param", key)
    except InvalidInput as exc:
        logger.warning("gnomon autolog skips param %r: %s", key, exc)
        return False
    return True


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    clean = {k: float(v) for k, v in metrics.items() if _is_number(v)}
    if clean:
        safely("log metrics", fluent.log_metrics, clean, step)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool | str)


def dataset_tags(data: Any, prefix: str = "training") -> dict[str, str]:
    """Shape and a content digest of a training input (NumPy, pandas, SciPy sparse, lists):
    ``<prefix>.rows``, ``<prefix>.columns`` and ``<prefix>.digest`` tags."""
    import numpy as np

    shape = getattr(data, "shape", None)
    if shape is None:
        try:
            data = np.asarray(data)
        except Exception:  # an input we cannot read gets no tags
            return {}
        shape = data.shape
    rows = int(shape[0]) if len(shape) else 1
    columns = int(shape[1]) if len(shape) > 1 else 1
    return {
        f"{prefix}.rows": str(rows),
        f"{prefix}.columns": str(columns),
        f"{prefix}.digest": _digest(data, rows),
    }


def _digest(data: Any, rows: int) -> str:
    """SHA-256 of the data's values, over at most ``DATASET_ROWS_SAMPLED`` evenly spaced rows
    (plus the shape, so a sample never equals a different whole)."""
    import numpy as np

    step = max(1, rows // DATASET_ROWS_SAMPLED)
    h = hashlib.sha256(repr(getattr(data, "shape", rows)).encode())
    if hasattr(data, "columns") and hasattr(data, "iloc"):  # a DataFrame
        import pandas as pd

        sample = data.iloc[::step]
        h.update(repr(list(map(str, data.columns))).encode())
        h.update(pd.util.hash_pandas_object(sample, index=False).values.tobytes())
    elif hasattr(data, "tocsr"):  # SciPy sparse
        sample = data.tocsr()[::step]
        for part in (sample.data, sample.indices, sample.indptr):
            h.update(np.ascontiguousarray(part).tobytes())
    else:
        array = np.asarray(data)
        sample = array[::step] if array.ndim else array
        if sample.dtype == object:
            h.update(repr(sample.tolist()).encode())
        else:
            h.update(np.ascontiguousarray(sample).tobytes())
    return h.hexdigest()[:16]


def described(tags: Mapping[str, str], prefix: str = "training") -> str | None:
    """The data that ``dataset_tags`` described, in words, for a model's ``training_data``:
    ``"426 rows x 30 columns, sha256 1f2e…"``; None without the tags."""
    keys = (f"{prefix}.rows", f"{prefix}.columns", f"{prefix}.digest")
    if not all(key in tags for key in keys):
        return None
    rows, columns, digest = (tags[key] for key in keys)
    return f"{rows} rows x {columns} columns, sha256 {digest}"


def log_dataset(data: Any, prefix: str = "training") -> str | None:
    """Tag the run with ``dataset_tags(data)``; returns them ``described``, or None when the
    data could not be described."""
    tags = safely("describe the training data", dataset_tags, data, prefix)
    if not tags:
        return None
    safely("tag the training data", fluent.set_tags, tags)
    return described(tags, prefix)


def log_model(
    model: Any,
    input_example: Any,
    name: str = "model",
    *,
    training_data: str | None = None,
    **kwargs: Any,
) -> None:
    """Log the fitted model with its contract inferred from (a slice of) the training input,
    and ``training_data`` (what ``log_dataset`` returned) as its lineage."""
    example = _head(input_example, EXAMPLE_ROWS)
    name = safely("name the model", _free_model_name, name) or name
    safely(
        "log the model",
        registry_fluent.log_model,
        model,
        name,
        input_example=example,
        training_data=training_data,
        **kwargs,
    )


def _free_model_name(name: str) -> str:
    """``name``, or ``name-2``, ``name-3``… when the active run already logged a model
    there (a second fit inside one run of the user's)."""
    current = fluent.active_run()
    if current is None:
        return name
    # log_model lists the run's models in a tag: one read, however many fits came before.
    tags = current.client.get_run(current.id).tags
    taken = set(tags.get(registry_fluent.LOGGED_MODELS_TAG, "").split(","))
    number = 1
    while (candidate := name if number == 1 else f"{name}-{number}") in taken:
        number += 1
    return candidate


def _head(data: Any, rows: int) -> Any:
    if data is None:
        return None
    if hasattr(data, "iloc"):
        return data.iloc[:rows]
    try:
        return data[:rows]
    except Exception:  # an example we cannot slice is passed whole
        return data
