from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gnomon.errors import InvalidInput
from gnomon.modelfolder import save_model
from tests.unit.modelfolder.support import assert_same_everywhere, numeric_data, round_trip


def mlp(outputs: int = 3) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(8, outputs)
    )


def reference(model: torch.nn.Module, values: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        out: np.ndarray = model(torch.from_numpy(values.astype("float32"))).numpy()
    return out


def test_mlp_round_trip(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    model = mlp()
    model.train()  # exported in eval mode anyway: dropout off
    loaded = round_trip(model, tmp_path / "m", frame.head(1), metadata={"proba": "softmax"})

    assert loaded.flavor == "pytorch"
    assert model.training  # the caller's module is left as it was
    expected = reference(model, frame.to_numpy())
    assert_same_everywhere(loaded, frame, expected)
    probs = torch.softmax(torch.from_numpy(expected), dim=-1).numpy()
    assert_same_everywhere(loaded, frame, probs, "predict_proba")
    np.testing.assert_allclose(loaded.predict(frame.head(1)), expected[:1], rtol=1e-6)


def test_proba_only_when_asked(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    loaded = round_trip(mlp(), tmp_path / "m", frame)

    assert not loaded.has_proba
    with pytest.raises(InvalidInput, match="pytorch model"):
        loaded.predict_proba(frame)


def test_needs_an_input_example(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="needs input_example"):
        save_model(mlp(), tmp_path / "m")
    assert list(tmp_path.iterdir()) == []  # no half-written folder, staging included


def test_unknown_proba_is_refused(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    with pytest.raises(InvalidInput, match="'proba' must be one of"):
        save_model(mlp(), tmp_path / "m", input_example=frame, metadata={"proba": "argmax"})
