"""W3 on MLflow: train the W3 model and save it with ``mlflow.sklearn.save_model`` (cloudpickle,
as ``mlflow models serve`` then loads it with ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true``).

Runs inside the MLflow peer venv (``bench/.peers/mlflow``); imports neither gnomon nor bench.
The serving and the load are driven by ``bench/workloads/w3.py``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    return parser.parse_args()


def _train(kind: str) -> tuple[Any, Any]:
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


def main() -> None:
    import mlflow.sklearn

    args = _parse()
    kind = json.loads(args.data.read_text())["model"]
    model, frame = _train(kind)
    mlflow.sklearn.save_model(
        model,
        str(args.model_dir),
        serialization_format="cloudpickle",
        input_example=frame,
    )
    print(json.dumps({"model": kind, "mlflow": mlflow.__version__}), flush=True)


if __name__ == "__main__":
    main()
