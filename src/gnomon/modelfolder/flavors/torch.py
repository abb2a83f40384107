"""PyTorch modules, exported with ``torch.export`` and run on the CPU.

An exported program loads without the user's class, which pickling a module would need.
(TorchScript would too, but ``torch.jit`` warns it is deprecated in torch 2.13.) Exporting traces
the module, so it needs ``input_example``; it is traced in eval mode with a dynamic batch
size. ``predict`` returns the module's output as a float32 array. A module does not say
whether its output is logits, so ``predict_proba`` exists only when the model was saved with
``metadata={"proba": "softmax"}`` (or ``"sigmoid"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput
from gnomon.modelfolder.flavors.base import Predictor, module_names, pin

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder.spec import ModelSpec

FILE = "model.pt2"
PROBA = ("softmax", "sigmoid")


class TorchFlavor:
    name = "pytorch"
    imports: tuple[tuple[str, str], ...] = (("torch", "torch"),)

    def matches(self, model: object) -> bool:
        return "torch" in module_names(model) and hasattr(model, "forward")

    def requirements(self) -> list[str]:
        return pin("torch")

    def loader(self, model: Any) -> dict[str, Any]:
        return {"file": FILE, "format": "torch.export"}

    def save(self, model: Any, folder: Path, example: pd.DataFrame | None) -> list[str]:
        import torch

        if example is None or example.empty:
            raise InvalidInput("saving a pytorch model needs input_example: it is traced on it")
        values = example.to_numpy(dtype="float32")
        if len(values) < 2:
            # torch.export fixes a batch of one as a constant; two rows keep the batch dynamic.
            values = values.repeat(2, axis=0)
        model = on_the_cpu(model)
        was_training = model.training
        model.eval()
        try:
            batch = torch.export.Dim("batch", min=1)
            program = torch.export.export(
                model, (torch.tensor(values),), dynamic_shapes=({0: batch},)
            )
        finally:
            model.train(was_training)
        torch.export.save(program, str(folder / FILE))
        return [FILE]

    def load(self, folder: Path, spec: ModelSpec) -> Predictor:
        import torch

        proba = spec.metadata.get("proba")
        if proba is not None and proba not in PROBA:
            raise InvalidInput(f"metadata 'proba' must be one of {PROBA}, got {proba!r}")
        program = torch.export.load(str(folder / str(spec.loader.get("file", FILE))))
        return TorchPredictor(program.module(), proba)


def on_the_cpu(model: Any) -> Any:
    """``model``, or a copy of it on the CPU when any of its tensors lives elsewhere (a module
    trained on a GPU): the saved program runs on the CPU, and moving the user's own module
    would pull it from under a training loop that goes on."""
    import copy
    import itertools

    tensors = itertools.chain(model.parameters(), model.buffers())
    if all(tensor.device.type == "cpu" for tensor in tensors):
        return model
    return copy.deepcopy(model).cpu()


class TorchPredictor:
    def __init__(self, module: Any, proba: str | None) -> None:
        self.module = module
        self.proba = proba

    @property
    def has_proba(self) -> bool:
        return self.proba is not None

    def predict(self, frame: pd.DataFrame) -> Any:
        return self._forward(frame).numpy()

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        import torch

        out = self._forward(frame)
        probs = torch.sigmoid(out) if self.proba == "sigmoid" else torch.softmax(out, dim=-1)
        return probs.numpy()

    def _forward(self, frame: pd.DataFrame) -> Any:
        import torch

        with torch.no_grad():
            return self.module(torch.tensor(frame.to_numpy(dtype="float32")))
