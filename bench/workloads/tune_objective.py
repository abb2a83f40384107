"""The objective both sides of TUNE and TUNER optimise: Rosenbrock's function of ``x`` and
``y``, optionally after sleeping (TUNER's stand-in for a training run).

gnomon gets ``objective`` (it reads ``trial.params``, chosen from ``SPACE``); bare Optuna gets
``optuna_objective`` (``trial.suggest_float`` with the same bounds, in the same order), so
both samplers see identical distributions. Functions of an importable module are pickled by
reference: gnomon's Ray workers import this file rather than carry its code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

LOW, HIGH = -5.0, 5.0
SPACE = {name: {"type": "float", "low": LOW, "high": HIGH} for name in ("x", "y")}


def rosenbrock(x: float, y: float) -> float:
    """Rosenbrock's banana: 0 at (1, 1)."""
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def objective(trial: Any) -> float:
    """gnomon's objective: the parameters gnomon chose from ``SPACE``."""
    return rosenbrock(trial.params["x"], trial.params["y"])


def optuna_objective(trial: Any) -> float:
    """Bare Optuna's objective: the same two floats, suggested by hand."""
    return rosenbrock(trial.suggest_float("x", LOW, HIGH), trial.suggest_float("y", LOW, HIGH))


class Sleeping:
    """``function`` after ``seconds`` of sleep: a trial whose work is a fixed wait (TUNER's
    training run), so parallel workers' speed-up shows without needing spare cores."""

    def __init__(self, seconds: float, function: Callable[[Any], float]) -> None:
        self.seconds, self.function = seconds, function

    def __call__(self, trial: Any) -> float:
        time.sleep(self.seconds)
        return self.function(trial)
