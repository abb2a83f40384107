"""Checks on names and values, shared by the service and the SDK's buffered fast path."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from gnomon import checks
from gnomon.checks import INT64_MAX, INT64_MIN, storable
from gnomon.errors import InvalidInput

PARAM_VALUE_LENGTH = 6000
TAG_VALUE_LENGTH = 8000
NAME_LENGTH = 256


def metric_value(key: str, value: object) -> float:
    """A metric value as float; bools and non-numbers are refused, NaN and ±inf kept."""
    # Exact types first: the ABC checks below cost more than the rest of a log_metric call.
    kind = type(value)
    if kind is float:
        return value  # type: ignore[return-value]
    if kind is int:
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, float):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(
            f"metric {key!r} must be a number, got {type(value).__name__} {value!r}", {"key": key}
        )
    return float(value)


def check_step(key: str, step: object) -> int:
    if type(step) is int and INT64_MIN <= step <= INT64_MAX:  # the common case, cheaply
        return step
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidInput(f"step of metric {key!r} must be an integer, got {step!r}", {"key": key})
    if not INT64_MIN <= int(step) <= INT64_MAX:
        raise InvalidInput(f"step {step} of metric {key!r} is out of range", {"key": key})
    return int(step)


def param_value(key: str, value: object) -> str:
    text = value if isinstance(value, str) else _stringify(value)
    if len(text) > PARAM_VALUE_LENGTH:
        raise InvalidInput(
            f"param {key!r} value is {len(text)} characters; at most {PARAM_VALUE_LENGTH}",
            {"key": key},
        )
    return storable(f"param {key!r} value", text)


def tag_value(key: str, value: object) -> str:
    text = value if isinstance(value, str) else _stringify(value)
    if len(text) > TAG_VALUE_LENGTH:
        raise InvalidInput(
            f"tag {key!r} value is {len(text)} characters; at most {TAG_VALUE_LENGTH}",
            {"key": key},
        )
    return storable(f"tag {key!r} value", text)


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{kind} name must be a non-empty string, got {name!r}")
    if len(name) > NAME_LENGTH:
        raise InvalidInput(f"{kind} name is {len(name)} characters; at most {NAME_LENGTH}")
    if name != name.strip() or any(ord(c) < 32 for c in name):
        raise InvalidInput(
            f"{kind} name {name!r} has leading/trailing spaces or control characters"
        )
    return storable(f"{kind} name", checks.not_dots(f"{kind} name", name))


def params_dict(values: Mapping[str, Any]) -> dict[str, str]:
    return {
        checks.key("param", k): param_value(k, v) for k, v in _mapping(values, "params").items()
    }


def tags_dict(values: Mapping[str, Any] | None) -> dict[str, str]:
    if not values:
        return {}
    return {checks.key("tag", k): tag_value(k, v) for k, v in _mapping(values, "tags").items()}


def _mapping(values: object, what: str) -> Mapping[str, Any]:
    if not isinstance(values, Mapping):
        raise InvalidInput(f"{what} must be a mapping of key to value, got {type(values).__name__}")
    return values


def _stringify(value: object) -> str:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return repr(value)
    return str(value)
