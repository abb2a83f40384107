"""W3 on MLflow: train the W3 model and save it with ``mlflow.sklearn.save_model`` (cloudpickle,
as ``mlflow models serve`` then loads it with ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true``).

Runs inside the MLflow peer venv (``bench/.peers/mlflow``). It imports no gnomon; the model
comes from ``bench/w3_model.py``, loaded by path, so both sides serve the very same model.
The serving and the load are driven by ``bench/workloads/w3.py``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    return parser.parse_args()


def main() -> None:
    import mlflow.sklearn

    args = _parse()
    kind = json.loads(args.data.read_text())["model"]
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root
    from bench.w3_model import train

    model, frame = train(kind)
    mlflow.sklearn.save_model(
        model,
        str(args.model_dir),
        serialization_format="cloudpickle",
        input_example=frame,
    )
    print(json.dumps({"model": kind, "mlflow": mlflow.__version__}), flush=True)


if __name__ == "__main__":
    main()
