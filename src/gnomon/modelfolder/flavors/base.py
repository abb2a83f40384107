"""What a flavor is: how one library's models are saved, loaded and asked to predict."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder.spec import ModelSpec


class Predictor(Protocol):
    """A loaded model; it gets a DataFrame already in the contract's column order."""

    @property
    def has_proba(self) -> bool: ...

    def predict(self, frame: pd.DataFrame) -> Any: ...

    def predict_proba(self, frame: pd.DataFrame) -> Any: ...


class Flavor(Protocol):
    """One library's way to save and load models.

    ``imports`` pairs each module loading needs with the package that provides it, so a missing
    library is reported as the ``pip install`` that fixes it. Flavor modules import their
    library inside methods only: importing gnomon.modelfolder must stay cheap.
    """

    name: str
    imports: tuple[tuple[str, str], ...]

    def matches(self, model: object) -> bool:
        """Whether ``model`` is this flavor's; must not import the library."""
        ...

    def requirements(self) -> list[str]:
        """The flavor's libraries pinned at their installed versions (``name==version``)."""
        ...

    def loader(self, model: Any) -> dict[str, Any]:
        """The options ``load`` needs, stored as ``loader`` in the model's YAML."""
        ...

    def save(self, model: Any, folder: Path, example: pd.DataFrame | None) -> list[str]:
        """Write the model's files into ``folder``; returns their relative paths."""
        ...

    def load(self, folder: Path, spec: ModelSpec) -> Predictor:
        """Read the files ``save`` wrote; hashes are already checked."""
        ...


def pin(*distributions: str) -> list[str]:
    """``name==version`` for each distribution that is installed; others are left out."""
    pins = []
    for name in distributions:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins


def module_names(model: object) -> set[str]:
    """Top-level modules of the classes ``model`` is an instance of, e.g. ``{"sklearn"}``.

    Reading class modules tells a flavor its model apart without importing its library.
    """
    return {cls.__module__.split(".")[0] for cls in type(model).__mro__}


def fitted_input(model: Any, frame: pd.DataFrame) -> Any:
    """The frame for a model fitted on a DataFrame, its values for one fitted on an array.

    Passing named columns to a model fitted without names makes scikit-learn warn and XGBoost
    refuse, and the contract has names either way (``x0``, ...) so both forms reach here.
    """
    names = getattr(model, "feature_names_in_", None)
    return frame if names is not None else frame.to_numpy()
