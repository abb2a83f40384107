"""Generated training data and the round-trip check shared by the flavor tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gnomon.modelfolder import LoadedModel, load_folder, save_model


def numeric_data(rows: int = 120, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Four float features and a binary label that depends on two of them."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 4)), columns=["a", "b", "c", "d"])
    label = (frame["a"] + 0.5 * frame["b"] > 0).astype("int64").to_numpy()
    return frame, label


def mixed_data(rows: int = 150, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Numbers, an int column and a small categorical column, with a three-class label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "height_m": rng.uniform(1.5, 2.0, rows),
            "age": rng.integers(18, 80, rows),
            "city": rng.choice(["lyon", "oslo", "pune"], rows),
        }
    )
    label = (frame["age"] // 30 + (frame["city"] == "oslo")).clip(0, 2).to_numpy()
    return frame, label


def input_forms(frame: pd.DataFrame) -> dict[str, Any]:
    """The same rows as each form ``predict`` accepts."""
    return {
        "dataframe": frame,
        "columns": {name: frame[name].tolist() for name in frame.columns},
        "records": frame.to_dict(orient="records"),
        "numpy": frame.to_numpy(),
    }


def round_trip(model: Any, folder: Path, example: Any, **kwargs: Any) -> LoadedModel:
    save_model(model, folder, input_example=example, **kwargs)
    return load_folder(folder)


def assert_same_everywhere(
    loaded: LoadedModel,
    frame: pd.DataFrame,
    expected: Any,
    method: str = "predict",
    atol: float = 0.0,
) -> None:
    """``loaded.<method>`` gives ``expected`` for each input form, with shuffled columns too.

    ``atol`` is for runtimes that compute in float32 differently (onnxruntime against torch).
    """
    call: Callable[[Any], Any] = getattr(loaded, method)
    for form, data in input_forms(frame).items():
        got = np.asarray(call(data))
        np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-6, atol=atol, err_msg=form)
    shuffled = frame[list(reversed(frame.columns))]
    np.testing.assert_allclose(
        np.asarray(call(shuffled)), np.asarray(expected), rtol=1e-6, atol=atol
    )
