"""The flavors: a closed map from name to a lazily imported implementation.

A model's YAML names its flavor; the loader is looked up here and never imported from a
name in the file. Order matters when guessing: XGBoost and LightGBM models are also
scikit-learn estimators, and anything with ``predict`` is a pyfunc.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.modelfolder.flavors.base import Flavor

_FLAVOR_CLASSES: Final = {
    "xgboost": "gnomon.modelfolder.flavors.xgboost:XGBoostFlavor",
    "lightgbm": "gnomon.modelfolder.flavors.lightgbm:LightGBMFlavor",
    "pytorch": "gnomon.modelfolder.flavors.torch:TorchFlavor",
    "onnx": "gnomon.modelfolder.flavors.onnx:OnnxFlavor",
    "sklearn": "gnomon.modelfolder.flavors.sklearn:SklearnFlavor",
    "pyfunc": "gnomon.modelfolder.flavors.pyfunc:PyfuncFlavor",
}

FLAVORS: Final = tuple(_FLAVOR_CLASSES)


def get_flavor(name: str) -> Flavor:
    """The flavor called ``name``.

    Raises:
        InvalidInput: no flavor has that name.
    """
    target = _FLAVOR_CLASSES.get(name)
    if target is None:
        raise InvalidInput(f"unknown model flavor '{name}'; known flavors: {list(FLAVORS)}")
    module, _, attr = target.partition(":")
    flavor: Flavor = getattr(importlib.import_module(module), attr)()
    return flavor


def flavor_of(model: object) -> Flavor:
    """The first flavor, in :data:`FLAVORS` order, that recognises ``model``.

    Raises:
        InvalidInput: no flavor does.
    """
    for name in FLAVORS:
        flavor = get_flavor(name)
        if flavor.matches(model):
            return flavor
    raise InvalidInput(
        f"cannot tell the flavor of a {type(model).__qualname__}; pass flavor= one of "
        f"{list(FLAVORS)}, or give the object a predict method"
    )


def require_libraries(flavor: Flavor) -> None:
    """Import the flavor's libraries now, so a missing one is named with its pip install.

    Raises:
        InvalidInput: a library is not installed.
    """
    for module, package in flavor.imports:
        try:
            importlib.import_module(module)
        except ImportError:
            raise InvalidInput(
                f"the '{flavor.name}' model flavor needs the '{package}' package: "
                f"pip install {package}",
                {"package": package},
            ) from None


__all__ = ["FLAVORS", "flavor_of", "get_flavor", "require_libraries"]
