"""scikit-learn autologging: the ``fit`` of every estimator (and the ``fit_transform`` and
``fit_predict`` that a class defines itself), pipelines and the search CVs included.

Only the outermost call logs: a pipeline's steps and a search's candidates are fitted
inside it and make no runs of their own. The patches sit on the class that defines each
method (often a private base such as ``BaseForest``), so every estimator inheriting it is
covered by one patch.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gnomon.autologging import session
from gnomon.autologging.calls import autologged, log_estimator_tags
from gnomon.autologging.imports import when_imported
from gnomon.autologging.patching import inside, patch, safely
from gnomon.autologging.session import Options
from gnomon.autologging.sklearn_metrics import training_metrics
from gnomon.autologging.sklearn_parallel import wrap_parallel_call
from gnomon.autologging.sklearn_search import is_search, log_search
from gnomon.autologging.sklearn_values import params_of

LIBRARY = "sklearn"
METHODS = ("fit", "fit_transform", "fit_predict")
# The generic mixins' fit_transform/fit_predict call ``fit``, which is patched where the
# estimator defines it; patching them too would reach third-party classes that inherit them.
_MIXIN_MODULE = "sklearn.base"


@dataclass(frozen=True, slots=True)
class FitInputs:
    """What a fit was trained on, read from its arguments."""

    x: Any = None
    y: Any = None
    sample_weight: Any = None


def enable(options: Options) -> None:
    """Patch scikit-learn's training calls now, or when the program first imports it;
    ``autolog`` calls this.

    Finding every estimator (``sklearn.utils.all_estimators``) imports all of scikit-learn,
    about two seconds the first time in a process; the patching itself takes milliseconds.
    """
    when_imported(LIBRARY, "sklearn", lambda: _patch_all(options))


def _patch_all(options: Options) -> None:
    from sklearn.utils.parallel import Parallel

    for owner, name, raw in _targets():
        patch(LIBRARY, owner, name, _wrapper_maker(raw, options))
    patch(LIBRARY, Parallel, "__call__", wrap_parallel_call)


def _targets() -> Iterator[tuple[type, str, Any]]:
    """Each (class, method, its raw attribute) to patch, once per defining class."""
    seen: set[tuple[type, str]] = set()
    for cls in _estimator_classes():
        for name in METHODS:
            owner = next((c for c in cls.__mro__ if name in vars(c)), None)
            if owner is None or (owner, name) in seen:
                continue
            seen.add((owner, name))
            raw = vars(owner)[name]
            ours = owner.__module__.startswith("sklearn.") and owner.__module__ != _MIXIN_MODULE
            if ours and (inspect.isfunction(raw) or _is_available_if(raw)):
                yield owner, name, raw


_TARGET_ENCODERS = frozenset({"LabelEncoder", "LabelBinarizer", "MultiLabelBinarizer"})


def _estimator_classes() -> list[type]:
    from sklearn.utils import all_estimators

    # The label encoders are fitted inside scikit-learn's own functions (f1_score fits a
    # LabelEncoder): logging those would give a user's run a "model" on two labels.
    classes = [cls for name, cls in all_estimators() if name not in _TARGET_ENCODERS]
    try:  # the halving searches are experimental: patched, never enabled by gnomon
        from sklearn.model_selection import _search_successive_halving as halving
    except ImportError:
        return classes
    return [*classes, halving.HalvingGridSearchCV, halving.HalvingRandomSearchCV]


def _is_available_if(raw: Any) -> bool:
    """A method behind ``sklearn.utils.metaestimators.available_if`` (Pipeline's
    ``fit_transform``): patched as one too, so ``hasattr`` answers as before."""
    return callable(getattr(raw, "check", None)) and inspect.isfunction(getattr(raw, "fn", None))


def _wrapper_maker(raw: Any, options: Options) -> Callable[[Any], Any]:
    def wrap(original: Callable[..., Any]) -> Any:
        if _is_available_if(raw):
            from sklearn.utils.metaestimators import available_if

            return available_if(raw.check)(_logging_call(raw.fn, options))
        return _logging_call(original, options)

    return wrap


def _logging_call(original: Callable[..., Any], options: Options) -> Callable[..., Any]:
    @functools.wraps(original)  # available_if names the method after the function
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        if inside() is not None:  # a step, a candidate, a refit: the outer call logs
            return original(self, *args, **kwargs)
        return _logged_fit(original, options, self, args, kwargs)

    return call


def _logged_fit(
    original: Callable[..., Any],
    options: Options,
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    with autologged(LIBRARY, type(estimator).__name__) as run:
        if run is None:
            return original(estimator, *args, **kwargs)
        inputs = safely("read the fit's arguments", fit_inputs, original, args, kwargs)
        inputs = inputs or FitInputs()
        data = safely("log the fit's params", _log_before, estimator, inputs, options)
        result = original(estimator, *args, **kwargs)
        safely("log the fit's results", _log_after, estimator, inputs, options, data)
    return result


def fit_inputs(
    original: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> FitInputs:
    """X, y and sample_weight as the fit received them, by position or by name (the first
    two parameters after ``self`` are X and y, whatever the estimator names them)."""
    signature = inspect.signature(original)
    try:
        bound = signature.bind_partial(None, *args, **kwargs).arguments
    except TypeError:  # the fit itself will say what is wrong with its arguments
        return FitInputs()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in signature.parameters.values() if p.kind in kinds][1:3]
    x = bound.get(names[0]) if names else None
    y = bound.get(names[1]) if len(names) > 1 else None
    weight = bound.get("sample_weight")
    extra = [p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD]
    if weight is None and extra:
        weight = bound.get(extra[0], {}).get("sample_weight")
    return FitInputs(x, y, weight)


def _log_before(estimator: Any, inputs: FitInputs, options: Options) -> str | None:
    """Log the estimator's tags, params and training data; returns the data described."""
    log_estimator_tags(estimator)
    params = safely("read the estimator's params", params_of, estimator)
    if params:
        session.log_params(params)
    if options.log_datasets and inputs.x is not None:
        return session.log_dataset(inputs.x)
    return None


def _log_after(estimator: Any, inputs: FitInputs, options: Options, data: str | None) -> None:
    model = estimator
    if is_search(estimator):
        safely("log the search", log_search, estimator, options)
        model = getattr(estimator, "best_estimator_", None)  # None when refit=False
    if model is None or inputs.x is None:
        return
    metrics = safely(
        "compute training metrics",
        training_metrics,
        model,
        inputs.x,
        inputs.y,
        inputs.sample_weight,
    )
    if metrics:
        session.log_metrics(metrics)
    if options.log_models and hasattr(model, "predict"):  # a transformer is no model
        session.log_model(model, inputs.x, training_data=data)
