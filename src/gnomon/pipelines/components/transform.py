"""Shaping components: a user's function over a table, and a train/holdout split."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from gnomon.errors import InvalidInput
from gnomon.pipelines.components._common import imported
from gnomon.pipelines.decorators import step


@step(cache=False)
def transform(frame: pd.DataFrame, function: str) -> pd.DataFrame:
    """``function(frame)``, where ``function`` is ``"module:attr"``: a function taking and
    returning a DataFrame. It is user code and runs here, in the pipeline's worker (imported
    there, so its module must be importable by the worker).

    Never cached: the cache knows the function's name, not its code, so an edited function
    would keep its old output. Its result is content-addressed, so the steps after it are
    still cached while the data it gives is unchanged. For a cached transform, write it as a
    ``@gnomon.step`` of its own: a step's cache key covers its code."""
    fn = imported(function, "transform function")
    if not callable(fn):
        raise InvalidInput(f"transform function {function[:200]!r} is not callable")
    result = fn(frame)
    if not isinstance(result, pd.DataFrame):
        raise InvalidInput(
            f"transform function {function[:200]!r} returned {type(result).__name__}, "
            "not a pandas DataFrame"
        )
    return result


class Split(NamedTuple):
    train: pd.DataFrame
    holdout: pd.DataFrame


@step
def split(
    frame: pd.DataFrame, test_size: float = 0.2, seed: int = 0, stratify: str | None = None
) -> Split:
    """Rows shuffled by ``seed`` into ``train`` and ``holdout`` (``test_size`` of them);
    with ``stratify`` (a column, such as a classifier's target) each of its values is split
    in that proportion."""
    if isinstance(test_size, bool) or not 0 < test_size < 1:
        raise InvalidInput(f"split: test_size is a fraction between 0 and 1, not {test_size!r}")
    if stratify is not None and stratify not in frame.columns:
        raise InvalidInput(f"split: no column {stratify!r} to stratify by")
    rng = np.random.default_rng(seed)
    codes = (
        np.zeros(len(frame), dtype=np.int64)
        if stratify is None
        else pd.factorize(frame[stratify], sort=True)[0]  # missing values: a group of their own
    )
    held = []
    for code in np.unique(codes):
        positions = np.flatnonzero(codes == code)
        held.append(rng.permutation(positions)[: round(len(positions) * test_size)])
    chosen = np.zeros(len(frame), dtype=bool)
    chosen[np.concatenate(held)] = True
    if chosen.all() or not chosen.any():
        raise InvalidInput(
            f"split: {len(frame)} rows with test_size {test_size} leave one side empty"
        )
    return Split(frame[~chosen], frame[chosen])


__all__ = ["Split", "split", "transform"]
