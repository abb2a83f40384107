"""Search spaces: ``{name: spec}`` from Python or YAML, made Optuna distributions.

A spec is ``{"type": "float", "low": 1e-4, "high": 0.1, "log": true}``, ``{"type": "int",
"low": 2, "high": 16, "step": 2}``, ``{"type": "categorical", "choices": ["gini",
"entropy"]}``, a plain list (the choices), or an Optuna distribution itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from gnomon.checks import shown
from gnomon.errors import InvalidInput

Space = dict[str, BaseDistribution]
MAX_PARAMS = 256
MAX_CHOICES = 10_000
MAX_GRID = 1_000_000
_KEYS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}


def parse_space(raw: Mapping[str, Any] | None) -> Space:
    """The distributions ``raw`` describes; InvalidInput naming the parameter that is wrong."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"a search space is a mapping of names to specs, got {shown(raw)}")
    if len(raw) > MAX_PARAMS:
        raise InvalidInput(f"a search space has at most {MAX_PARAMS} parameters, got {len(raw)}")
    space: Space = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not name or len(name) > 250:
            raise InvalidInput(f"parameter name {shown(name)} must be 1 to 250 characters")
        try:
            space[name] = _distribution(spec)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"parameter {name!r}: {exc}", {"param": name}) from None
    return space


def _distribution(spec: Any) -> BaseDistribution:
    if isinstance(spec, BaseDistribution):
        return spec
    if isinstance(spec, list | tuple):
        spec = {"type": "categorical", "choices": list(spec)}
    if not isinstance(spec, Mapping):
        raise ValueError(f"a spec is a mapping with a 'type', or a list of choices, not {spec!r}")
    kind = spec.get("type")
    if kind not in _KEYS:
        raise ValueError(f"type must be 'float', 'int' or 'categorical', got {shown(kind)}")
    unknown = sorted(set(spec) - _KEYS[kind])
    if unknown:
        raise ValueError(f"unknown keys {unknown} for a {kind} parameter")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list | tuple) or not 1 <= len(choices) <= MAX_CHOICES:
            raise ValueError(f"choices must be a list of 1 to {MAX_CHOICES} values")
        for choice in choices:
            if choice is not None and not isinstance(choice, bool | int | float | str):
                raise ValueError(f"choice {shown(choice)} is not a string, number, bool or null")
        return CategoricalDistribution(list(choices))
    for bound in ("low", "high"):
        value = spec.get(bound)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{bound} must be a number, got {shown(value)}")
        if not math.isfinite(value):
            raise ValueError(f"{bound} must be finite, got {value}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ValueError(f"log must be true or false, got {shown(log)}")
    if kind == "int":
        step = spec.get("step", 1)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (spec["low"], step)):
            raise ValueError("an int parameter's low, high and step must be integers")
        if not isinstance(spec["high"], int):
            raise ValueError("an int parameter's low, high and step must be integers")
        return IntDistribution(spec["low"], spec["high"], log=log, step=step)
    step = spec.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int | float)):
        raise ValueError(f"step must be a number, got {shown(step)}")
    return FloatDistribution(float(spec["low"]), float(spec["high"]), log=log, step=step)


def suggest(trial: Any, space: Space) -> dict[str, Any]:
    """Each parameter's value for this trial, as Optuna's sampler picks it."""
    params: dict[str, Any] = {}
    for name, distribution in space.items():
        if isinstance(distribution, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, distribution.choices)
        elif isinstance(distribution, IntDistribution):
            params[name] = trial.suggest_int(
                name,
                distribution.low,
                distribution.high,
                step=distribution.step,
                log=distribution.log,
            )
        elif isinstance(distribution, FloatDistribution):
            params[name] = trial.suggest_float(
                name,
                distribution.low,
                distribution.high,
                step=distribution.step,
                log=distribution.log,
            )
        else:
            raise InvalidInput(f"parameter {name!r}: unsupported distribution {distribution!r}")
    return params


def grid(space: Space) -> dict[str, list[Any]]:
    """Every value of each parameter, for the grid sampler: choices, and int or float
    ranges with a step. InvalidInput for a continuous range, or a grid too large."""
    values: dict[str, list[Any]] = {}
    size = 1
    for name, distribution in space.items():
        if isinstance(distribution, CategoricalDistribution):
            values[name] = list(distribution.choices)
        elif isinstance(distribution, IntDistribution) and not distribution.log:
            values[name] = list(range(distribution.low, distribution.high + 1, distribution.step))
        elif isinstance(distribution, FloatDistribution) and distribution.step is not None:
            count = round((distribution.high - distribution.low) / distribution.step) + 1
            values[name] = [distribution.low + i * distribution.step for i in range(count)]
        else:
            raise InvalidInput(
                f"the grid sampler needs choices, or a step, for parameter {name!r}",
                {"param": name},
            )
        size *= max(len(values[name]), 1)
        if size > MAX_GRID:
            raise InvalidInput(f"the grid has over {MAX_GRID:,} points: narrow the space")
    return values


def to_json(space: Space) -> dict[str, Any]:
    """The space as specs (``parse_space`` reads them back), for a study's settings."""
    from optuna.distributions import distribution_to_json

    return {name: distribution_to_json(d) for name, d in space.items()}
