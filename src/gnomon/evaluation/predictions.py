"""A model's answers on the evaluation data: labels or values, and class probabilities."""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gnomon.autologging.positive_class import positive_label
from gnomon.errors import GnomonError, InvalidInput, UserCodeError

if TYPE_CHECKING:
    import numpy as np

    from gnomon.evaluation.inputs import EvaluationData

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Predictions:
    """``predicted`` per row; for a classifier also its ``classes`` (sorted as
    ``predict_proba``'s columns), ``proba`` (``None`` without ``predict_proba``) and the
    ``pos_label`` of a binary problem."""

    targets: np.ndarray
    predicted: np.ndarray
    classes: list[Any] | None = None
    proba: np.ndarray | None = None
    pos_label: Any = None

    @property
    def binary(self) -> bool:
        return self.classes is not None and len(self.classes) == 2

    def subset(self, rows: np.ndarray) -> Predictions:
        proba = None if self.proba is None else self.proba[rows]
        targets, predicted = self.targets[rows], self.predicted[rows]
        return Predictions(targets, predicted, self.classes, proba, self.pos_label)


def resolve_model(model: Any, role: str) -> Any:
    """The model itself, or the one a ``runs:/``, ``models:/`` URI or folder names.

    Raises:
        NotFound: the URI names nothing.
        InvalidInput: neither a model with ``predict`` nor a URI.
    """
    if isinstance(model, str):
        from gnomon.registry.fluent import load_model

        return load_model(model)
    if not callable(getattr(model, "predict", None)):
        raise InvalidInput(
            f"the {role} must be a fitted model with predict, or a runs:/ or models:/ URI; "
            f"got {type(model).__name__}"
        )
    return model


def predict(
    model: Any, data: EvaluationData, model_type: str, pos_label: Any, role: str
) -> Predictions:
    """Run ``model`` on ``data`` and shape its answers.

    Raises:
        InvalidInput: the data lacks columns the model declares, or it answered the wrong
            shape; ``pos_label`` is not one of its classes.
        UserCodeError: the model's predict or predict_proba raised.
    """
    import numpy as np

    features = model_features(model, data.features, role)
    predicted = _one_per_row(_call(model, "predict", features), len(data), role)
    if model_type == "regressor":
        if predicted.dtype.kind not in "iufb":
            raise InvalidInput(f"the {role} predicted {predicted.dtype} values, not numbers")
        return Predictions(data.targets, predicted.astype("float64"))
    classes = _classes(model, data.targets, predicted, role)
    proba = None
    if _has_proba(model):
        proba = _proba(np.asarray(_call(model, "predict_proba", features)), classes, role)
    return Predictions(data.targets, predicted, classes, proba, _pos_label(classes, pos_label))


def model_features(model: Any, features: Any, role: str) -> Any:
    """The columns of ``features`` the model declares (its contract's inputs, or
    scikit-learn's ``feature_names_in_``), in that order; all of them when it declares none.

    Raises:
        InvalidInput: the data lacks a declared column.
    """
    declared = _declared_inputs(model)
    if declared is None or not hasattr(features, "columns"):
        return features
    missing = [name for name in declared if name not in features.columns]
    if missing:
        raise InvalidInput(
            f"data lacks columns the {role} takes: {', '.join(map(str, missing[:10]))}",
            {"missing": [str(m) for m in missing[:10]]},
        )
    return features[declared]


def _declared_inputs(model: Any) -> list[str] | None:
    contract = getattr(model, "contract", None)
    names = getattr(contract, "input_names", None)
    if names:
        return list(names)
    fitted = getattr(model, "feature_names_in_", None)
    return [str(name) for name in fitted] if fitted is not None else None


def _call(model: Any, method: str, features: Any) -> Any:
    try:
        return getattr(model, method)(features)
    except GnomonError:
        raise
    except Exception as exc:
        name = type(model).__qualname__
        raise UserCodeError(f"{name}.{method} raised {exc!r}", original=exc) from exc


def _one_per_row(output: Any, rows: int, role: str) -> np.ndarray:
    import numpy as np

    values = np.asarray(output)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1 or len(values) != rows:
        raise InvalidInput(
            f"the {role}'s predict returned shape {values.shape}; evaluate needs one "
            f"prediction per row ({rows})"
        )
    return values


def _has_proba(model: Any) -> bool:
    declared = getattr(model, "has_proba", None)  # a LoadedModel says whether it has one
    if isinstance(declared, bool):
        return declared
    return callable(getattr(model, "predict_proba", None))


def _classes(model: Any, targets: np.ndarray, predicted: np.ndarray, role: str) -> list[Any]:
    import numpy as np

    mixed = InvalidInput(
        f"the targets ({_kind(targets)}) and the {role}'s predictions ({_kind(predicted)}) "
        "are labels of different types"
    )
    if _kind(targets) != _kind(predicted):
        raise mixed
    declared = _declared_classes(model)
    if declared is not None:
        return declared
    try:
        seen: list[Any] = np.union1d(targets, predicted).tolist()
    except TypeError:  # objects that cannot be sorted together
        raise mixed from None
    return seen


def _kind(values: np.ndarray) -> str:
    if values.dtype.kind in "iufb":
        return "numbers"
    sample = values[:100].tolist() if values.dtype.kind == "O" else []
    if sample and all(isinstance(v, numbers.Number) for v in sample):
        return "numbers"
    return "text"


def _declared_classes(model: Any) -> list[Any] | None:
    # A LoadedModel keeps the estimator it wraps as ``_predictor.model``.
    inner = getattr(getattr(model, "_predictor", None), "model", None)
    for candidate in (model, inner):
        classes = getattr(candidate, "classes_", None)
        if classes is not None:
            import numpy as np

            listed: list[Any] = np.asarray(classes).tolist()
            return listed
    return None


def _proba(values: np.ndarray, classes: list[Any], role: str) -> np.ndarray | None:
    import numpy as np

    if values.ndim == 1 and len(classes) == 2:  # one score per row: the positive class's
        values = np.column_stack([1 - values, values])
    if values.ndim != 2 or values.shape[1] != len(classes):
        logger.warning(
            "gnomon: the %s's predict_proba returned shape %s for %d classes; "
            "ROC AUC and log loss are left out",
            role,
            values.shape,
            len(classes),
        )
        return None
    return values.astype("float64")


def _pos_label(classes: list[Any], chosen: Any) -> Any:
    if chosen is None:  # the rule autologging's training metrics follow too
        return positive_label(classes)
    if chosen not in classes:
        raise InvalidInput(f"pos_label {chosen!r} is not one of the classes {classes}")
    if len(classes) != 2:
        raise InvalidInput(f"pos_label applies to two classes; the model has {len(classes)}")
    return chosen
