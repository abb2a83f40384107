"""The W3 model, trained the same way by every side: the gnomon driver imports it, and the
MLflow peer script (in its own venv) loads it by path. Needs only pandas and scikit-learn."""

from __future__ import annotations

from typing import Any


def train(kind: str) -> tuple[Any, Any]:
    """``RandomForestClassifier(50)`` (``kind="rf"``) or ``LogisticRegression`` fitted on
    ``make_classification(5000, 20, random_state=0)`` as a frame ``f0``..``f19``."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=5000, n_features=20, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{j}" for j in range(x.shape[1])])
    model: Any = (
        RandomForestClassifier(n_estimators=50, random_state=0)
        if kind == "rf"
        else LogisticRegression(max_iter=1000)
    )
    return model.fit(frame, y), frame
