"""LoadedModel: one interface over every flavor."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.modelfolder.contract import Contract
    from gnomon.modelfolder.flavors.base import Predictor
    from gnomon.modelfolder.spec import ModelSpec


class LoadedModel:
    """A model read from its folder, whatever its flavor.

    ``predict`` and ``predict_proba`` take a DataFrame, a dict of columns, a list of records
    or a NumPy array (see :mod:`gnomon.modelfolder.inputs`), put the columns in the contract's
    order and return the flavor's output: a NumPy array, or what a pyfunc returns.
    """

    def __init__(self, spec: ModelSpec, predictor: Predictor, path: Path) -> None:
        self.spec = spec
        self.path = path
        self._predictor = predictor

    @property
    def flavor(self) -> str:
        return self.spec.flavor

    @property
    def contract(self) -> Contract | None:
        return self.spec.contract

    @property
    def has_proba(self) -> bool:
        return self._predictor.has_proba

    @property
    def batchable(self) -> bool:
        """Whether rows of several requests may share one ``predict`` call. A model whose
        answer for a row depends on the other rows of its call (a per-batch normalisation, a
        sequence model) declares ``metadata={"batchable": False}`` when saved, or, for a
        pyfunc model, a ``batchable = False`` class attribute."""
        declared = self.spec.metadata.get("batchable")
        if declared is None:
            declared = getattr(getattr(self._predictor, "model", None), "batchable", True)
        return bool(declared)

    def predict(self, data: Any) -> Any:
        """Predict on ``data``.

        Raises:
            InvalidInput: the data cannot be read, or has columns the contract does not list.
            UserCodeError: a pyfunc model's own predict raised.
        """
        return self._predictor.predict(self._frame(data))

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities for ``data``.

        Raises:
            InvalidInput: the model has no predict_proba, or the data cannot be read.
            UserCodeError: a pyfunc model's own predict_proba raised.
        """
        if not self.has_proba:
            raise InvalidInput(
                f"the {self.flavor} model at '{self.path}' has no predict_proba",
                {"flavor": self.flavor},
            )
        return self._predictor.predict_proba(self._frame(data))

    def _frame(self, data: Any) -> Any:
        from gnomon.modelfolder.inputs import to_frame

        return to_frame(data, self.contract)

    def __repr__(self) -> str:
        return f"LoadedModel(flavor={self.flavor!r}, path='{self.path}')"
