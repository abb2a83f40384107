"""Pipeline parameter values: checked against their annotations, and parsed from the CLI's
``-p key=value`` strings by those annotations."""

from __future__ import annotations

import json
import math
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from gnomon.errors import InvalidInput
from gnomon.pipelines.spec import PipelineSpec
from gnomon.pipelines.typing_check import type_name

_SIMPLE = (bool, int, float, str, list, dict)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _plain(kind: Any) -> Any:
    origin = typing.get_origin(kind)
    base = origin if origin is not None else kind
    return base if base in _SIMPLE else None


def check_values(spec: PipelineSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    checked = {}
    for param in spec.params:
        value = values[param.name]
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"pipeline parameter {param.name!r} must be a JSON value, not "
                f"{type(value).__name__}"
            ) from None
        kind = _plain(param.type)
        if kind is not None and value is not None and not _fits(value, kind):
            raise InvalidInput(
                f"pipeline parameter {param.name!r} is {type_name(param.type)}, "
                f"not {type(value).__name__} ({str(value)[:60]!r})"
            )
        checked[param.name] = value
    return checked


def _fits(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def parse_pairs(spec: PipelineSpec, pairs: Sequence[str]) -> dict[str, Any]:
    """``["epochs=3", "lr=0.1"]`` → typed values, by each parameter's annotation."""
    known = {param.name: param for param in spec.params}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidInput(f"a parameter is given as key=value, not {pair[:80]!r}")
        param = known.get(name)
        if param is None:
            raise InvalidInput(
                f"pipeline {spec.name!r} has no parameter {name[:80]!r}; "
                f"it takes {', '.join(known) or 'none'}"
            )
        values[name] = _parse(name, text, _plain(param.type))
    return values


def _parse(name: str, text: str, kind: Any) -> Any:
    try:
        if kind is str:
            return text
        if kind is bool:
            lowered = text.strip().lower()
            if lowered in _TRUE | _FALSE:
                return lowered in _TRUE
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(text)
            return number
        if kind in (list, dict):
            parsed = json.loads(text)
            if not isinstance(parsed, kind):
                raise ValueError(text)
            return parsed
    except ValueError:
        raise InvalidInput(f"parameter {name!r} takes {kind.__name__}, not {text[:80]!r}") from None
    try:  # unannotated: JSON when it parses, the text otherwise
        return json.loads(text)
    except ValueError:
        return text


__all__ = ["check_values", "parse_pairs"]
