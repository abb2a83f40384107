"""Autologging: ``gnomon.autolog()`` patches the training calls of the libraries installed
(scikit-learn, XGBoost, LightGBM, PyTorch and Lightning) to log params, per-iteration
metrics, the fitted model with its contract, and the training data's shape and digest.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence

from gnomon.autologging.patching import patched_libraries, revert
from gnomon.autologging.session import Options
from gnomon.errors import InvalidInput
from gnomon.suggestions import did_you_mean

# Library name → (module that must be importable, gnomon module with ``enable(options)``).
LIBRARIES: dict[str, tuple[str, str]] = {
    "sklearn": ("sklearn", "gnomon.autologging.for_sklearn"),
    "xgboost": ("xgboost", "gnomon.autologging.for_xgboost"),
    "lightgbm": ("lightgbm", "gnomon.autologging.for_lightgbm"),
    "pytorch": ("torch", "gnomon.autologging.for_pytorch"),
    "lightning": ("lightning", "gnomon.autologging.for_lightning"),
}


def autolog(
    libraries: str | Sequence[str] | None = None,
    *,
    disable: bool = False,
    log_models: bool = True,
    log_datasets: bool = True,
    max_tuning_runs: int = 50,
) -> list[str]:
    """Log the training of ``libraries`` (default: every supported one that is installed);
    returns the libraries now autologged (after ``disable=True``: those switched off).

    Each fit logs to the active run, or to a run of its own that it starts and ends. A
    search (``GridSearchCV`` and friends) logs its best candidate's params and score and
    one child run per candidate, up to ``max_tuning_runs``. If gnomon fails while logging,
    it warns and the fit carries on.

    Example:
        >>> gnomon.autolog()
        >>> RandomForestClassifier().fit(X, y)  # a run with params, metrics, model, data
        >>> gnomon.autolog(disable=True)        # every patch undone

    Raises:
        InvalidInput: an unknown library, one asked for by name that is not installed, or
            ``max_tuning_runs`` below 0.
    """
    names = _names(libraries)
    if disable:
        done = [name for name in names if name in patched_libraries()]
        for name in names:
            revert(name)
        return done
    if isinstance(max_tuning_runs, bool) or not isinstance(max_tuning_runs, int):
        raise InvalidInput(f"max_tuning_runs must be an integer, got {max_tuning_runs!r}")
    if max_tuning_runs < 0:
        raise InvalidInput(f"max_tuning_runs must be 0 or more, got {max_tuning_runs}")
    options = Options(log_models, log_datasets, max_tuning_runs)
    enabled = []
    for name in names:
        module, gnomon_module = LIBRARIES[name]
        if importlib.util.find_spec(module) is None:
            if libraries is not None:
                raise InvalidInput(f"cannot autolog {name}: {module!r} is not installed")
            continue
        revert(name)  # a second call replaces the options of the first
        importlib.import_module(gnomon_module).enable(options)
        enabled.append(name)
    return enabled


def _names(libraries: str | Sequence[str] | None) -> list[str]:
    if libraries is None:
        return list(LIBRARIES)
    names = [libraries] if isinstance(libraries, str) else list(libraries)
    for name in names:
        if name not in LIBRARIES:
            hint = did_you_mean(str(name), LIBRARIES)
            raise InvalidInput(
                f"cannot autolog {name!r}: known libraries are {', '.join(LIBRARIES)}{hint}"
            )
    return names
