"""scikit-learn params as the text a run stores: short, stable and readable.

A nested estimator is shown by its class (``StandardScaler()``), since ``get_params(deep=
True)`` lists its own params beside it as ``<name>__<param>``; functions by their name,
never by a repr holding a memory address; NumPy scalars as plain numbers; in a dict (a
``FunctionTransformer``'s ``kw_args``), a secret's value as ``***`` (see ``redaction``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gnomon.autologging.redaction import REDACTED, is_secret


def params_of(estimator: Any) -> dict[str, str]:
    """``estimator.get_params(deep=True)`` as text."""
    return {str(key): param_text(value) for key, value in estimator.get_params(deep=True).items()}


def param_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(_plain(value))


class _Shown:
    """Reprs as the text given, so containers of estimators print as sklearn would."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _plain(value: Any) -> Any:
    if isinstance(value, type):
        return _Shown(value.__name__)
    if hasattr(value, "get_params"):  # a nested estimator: its params are logged beside it
        return _Shown(f"{type(value).__name__}()")
    if callable(value):
        return _Shown(getattr(value, "__qualname__", None) or type(value).__name__)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, Mapping):
        return {
            key: _Shown(REDACTED) if is_secret(key) else _plain(item) for key, item in value.items()
        }
    item = getattr(value, "item", None)  # a NumPy scalar
    if callable(item) and getattr(value, "ndim", None) == 0:
        return item()
    if " at 0x" in repr(value):  # an object shown by its address, e.g. a RandomState
        return _Shown(type(value).__name__)
    return value
