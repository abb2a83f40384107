"""Objectives the tuning tests run: importable, so local worker processes and Ray tasks load
them by reference."""

from __future__ import annotations

from typing import Any

SPACE = {
    "x": {"type": "float", "low": -5.0, "high": 5.0},
    "y": {"type": "float", "low": -5.0, "high": 5.0},
}


def quadratic(trial: Any) -> float:
    """Its minimum, 0, is at x=2, y=-1."""
    return (trial.params["x"] - 2.0) ** 2 + (trial.params["y"] + 1.0) ** 2


def curves(trial: Any) -> float:
    """Ten epochs of a curve that ends at (x - 2)^2: bad trials are bad from the first step."""
    x = trial.params["x"]
    for step in range(10):
        trial.report((x - 2.0) ** 2 + 1.0 / (step + 1), step)
        if trial.should_prune():
            trial.prune()
    return (x - 2.0) ** 2


def two_objectives(trial: Any) -> tuple[float, float]:
    x = trial.params["x"]
    return x**2, (x - 2.0) ** 2


def fails_on_negative_x(trial: Any) -> float:
    if trial.params["x"] < 0:
        raise ValueError("x must not be negative here")
    return trial.params["x"]


def fits_a_tree(trial: Any) -> float:
    """Fits and logs a small tree; the held-out accuracy is the value."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    import gnomon

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = DecisionTreeClassifier(max_depth=trial.params["depth"], random_state=0)
    model.fit(x.iloc[:400], y.iloc[:400])
    gnomon.log_model(model, "model", input_example=x.head(3))
    return float(model.score(x.iloc[400:], y.iloc[400:]))


def slow(trial: Any) -> float:
    import time

    time.sleep(0.2)
    return trial.params["x"] ** 2
