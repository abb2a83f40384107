"""ONNX models, run with onnxruntime on the CPU.

The model is an ``onnx.ModelProto`` or the path of an ``.onnx`` file. The table goes in as
one tensor (the graph's first input) of the type that input declares, float32 by default.
``predict`` is the first output; a graph with a second output (scikit-learn converters emit
label then probabilities) has ``predict_proba``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput
from gnomon.modelfolder.flavors.base import Predictor, module_names, pin

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder.spec import ModelSpec

FILE = "model.onnx"
_TENSOR_TYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(int64)": "int64"}


class OnnxFlavor:
    name = "onnx"
    imports: tuple[tuple[str, str], ...] = (("onnxruntime", "onnxruntime"),)

    def matches(self, model: object) -> bool:
        if isinstance(model, str | os.PathLike):
            return str(model).endswith(".onnx")
        return "onnx" in module_names(model) and type(model).__name__ == "ModelProto"

    def requirements(self) -> list[str]:
        return pin("onnxruntime")

    def loader(self, model: Any) -> dict[str, Any]:
        return {"file": FILE}

    def save(self, model: Any, folder: Path, example: pd.DataFrame | None) -> list[str]:
        if isinstance(model, str | os.PathLike):
            if not Path(model).is_file():
                raise InvalidInput(f"no ONNX file at '{model}'")
            shutil.copyfile(model, folder / FILE)
        else:
            # Serialising the proto needs no onnx import, and loading needs only onnxruntime.
            (folder / FILE).write_bytes(model.SerializeToString())
        return [FILE]

    def load(self, folder: Path, spec: ModelSpec) -> Predictor:
        import onnxruntime

        file = str(folder / str(spec.loader.get("file", FILE)))
        return OnnxPredictor(onnxruntime.InferenceSession(file, providers=["CPUExecutionProvider"]))


class OnnxPredictor:
    def __init__(self, session: Any) -> None:
        self.session = session
        first = session.get_inputs()[0]
        self.input_name: str = first.name
        self.input_dtype = _TENSOR_TYPES.get(first.type, "float32")

    @property
    def has_proba(self) -> bool:
        return len(self.session.get_outputs()) > 1

    def predict(self, frame: pd.DataFrame) -> Any:
        return self._run(frame)[0]

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        import numpy as np

        proba = self._run(frame)[1]
        if isinstance(proba, list):  # a ZipMap output: one {label: probability} per row
            return np.array([[row[k] for k in sorted(row)] for row in proba])
        return proba

    def _run(self, frame: pd.DataFrame) -> list[Any]:
        values = frame.to_numpy(dtype=self.input_dtype)
        outputs: list[Any] = self.session.run(None, {self.input_name: values})
        return outputs
