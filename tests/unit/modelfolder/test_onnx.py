"""ONNX models made by exporting a small torch MLP; no converter beyond torch is needed."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from gnomon.errors import InvalidInput
from gnomon.modelfolder import save_model
from tests.unit.modelfolder.support import assert_same_everywhere, numeric_data, round_trip
from tests.unit.modelfolder.test_torch import mlp, reference


def export(model: torch.nn.Module, file: Path) -> Path:
    model.eval()
    with warnings.catch_warnings():
        # The torch.export-based exporter needs onnxscript; the legacy one only warns.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (torch.zeros(2, 4),),
            str(file),
            input_names=["x"],
            output_names=["logits"],
            dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
            dynamo=False,
        )
    return file


def test_model_proto_round_trip(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    model = mlp()
    proto = onnx.load(str(export(model, tmp_path / "mlp.onnx")))
    loaded = round_trip(proto, tmp_path / "m", frame)

    assert loaded.flavor == "onnx"
    # Float32 kernels differ a little between onnxruntime and torch.
    assert_same_everywhere(loaded, frame, reference(model, frame.to_numpy()), atol=1e-6)
    assert not loaded.has_proba


def test_file_path_round_trip(tmp_path: Path) -> None:
    frame, _ = numeric_data()
    model = mlp(outputs=1)
    loaded = round_trip(export(model, tmp_path / "mlp.onnx"), tmp_path / "m", frame)

    np.testing.assert_allclose(
        loaded.predict(frame), reference(model, frame.to_numpy()), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(InvalidInput, match="onnx model"):
        loaded.predict_proba(frame)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no ONNX file"):
        save_model(str(tmp_path / "nope.onnx"), tmp_path / "m")
