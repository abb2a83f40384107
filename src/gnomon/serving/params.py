"""Inference params: the ``params`` object of an ``/invocations`` body, handed to a model
whose ``predict`` takes them, as MLflow's scoring server calls ``predict(data, params=...)``.

A pyfunc model takes them when its ``predict`` has a parameter named ``params`` (MLflow's
rule); any other model answers a request with params with a 400 naming the model. Params are
bounded like every client input: at most ``MAX_PARAMS`` names of at most ``MAX_NAME``
characters, each value a JSON scalar (a string of at most ``MAX_TEXT`` characters) or a list
of at most ``MAX_ITEMS`` scalars.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Final

from gnomon.errors import InvalidInput, UserCodeError

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder import LoadedModel

MAX_PARAMS: Final = 64
MAX_NAME: Final = 256
MAX_ITEMS: Final = 1_000
MAX_TEXT: Final = 65_536

_SCALARS: Final = (str, int, float, bool, type(None))


def check_params(value: Any) -> dict[str, Any] | None:
    """The params of a request, checked; None when there are none (absent, null or ``{}``).

    Raises:
        InvalidInput: not an object, too many names, a name too long, or a value that is not
            a scalar or a list of scalars within the bounds (``details["param"]`` names it).
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(
            f'"params" must be an object of names to values, not {_json_kind(value)}',
            {"params": _json_kind(value)},
        )
    if len(value) > MAX_PARAMS:
        raise InvalidInput(
            f'"params" holds {len(value)} names; at most {MAX_PARAMS} are read',
            {"params": len(value), "max_params": MAX_PARAMS},
        )
    for name, item in value.items():
        _check_param(name, item)
    return value or None


def takes_params(model: LoadedModel) -> bool:
    """Whether ``model``'s ``predict`` takes ``params`` (a pyfunc model whose ``predict`` has
    a parameter of that name)."""
    predict = getattr(_wrapped(model), "predict", None)
    if model.flavor != "pyfunc" or predict is None:
        return False
    try:
        return "params" in inspect.signature(predict).parameters
    except (TypeError, ValueError):  # a builtin or C extension without a signature
        return False


def predict_with_params(model: LoadedModel, frame: pd.DataFrame, params: dict[str, Any]) -> Any:
    """``model``'s answer for ``frame`` (columns put in its contract's order, as
    ``LoadedModel.predict`` puts them) with ``params``; ``model`` must take them.

    Raises:
        UserCodeError: the model's own predict raised.
    """
    from gnomon.modelfolder.inputs import to_frame

    wrapped = _wrapped(model)
    ordered = to_frame(frame, model.contract)
    try:
        return wrapped.predict(ordered, params=params)
    except Exception as exc:
        name = type(wrapped).__qualname__
        raise UserCodeError(f"{name}.predict raised {exc!r}", original=exc) from exc


def _wrapped(model: LoadedModel) -> Any:
    # LoadedModel.predict takes no params, so the object a pyfunc model wraps is reached
    # where LoadedModel keeps it (evaluation/predictions.py reads it the same way).
    return getattr(getattr(model, "_predictor", None), "model", None)


def _check_param(name: str, value: Any) -> None:
    if not name or len(name) > MAX_NAME:
        shown = name[:40] + "…" if len(name) > 40 else name
        raise InvalidInput(
            f"param name {shown!r} must have 1 to {MAX_NAME} characters",
            {"param": shown, "max_name": MAX_NAME},
        )
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise InvalidInput(
                f"param {name!r} lists {len(value)} values; at most {MAX_ITEMS} are read",
                {"param": name, "max_items": MAX_ITEMS},
            )
        items = value
    else:
        items = [value]
    for item in items:
        if not isinstance(item, _SCALARS):
            raise InvalidInput(
                f"param {name!r} holds {_json_kind(item)}: a value is a string, number, "
                "boolean, null or a list of those",
                {"param": name},
            )
        if isinstance(item, str) and len(item) > MAX_TEXT:
            raise InvalidInput(
                f"param {name!r} holds a string of {len(item)} characters; at most "
                f"{MAX_TEXT} are read",
                {"param": name, "max_text": MAX_TEXT},
            )


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a boolean" if isinstance(value, bool) else "a number"


__all__ = [
    "MAX_ITEMS",
    "MAX_NAME",
    "MAX_PARAMS",
    "MAX_TEXT",
    "check_params",
    "predict_with_params",
    "takes_params",
]
