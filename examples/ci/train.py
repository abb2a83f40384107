"""Train the churn model in CI: version the data, log a run and a model.

The server, token and workspace come from GNOMON_URI, GNOMON_TOKEN and GNOMON_WORKSPACE, the
experiment from GNOMON_EXPERIMENT. The run's id and the data version it trained on are
written under .gnomon-ci/ for the steps after this one (evaluate.py, the register step).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import gnomon

DATA = Path("data/churn.csv")
OUT = Path(".gnomon-ci")
NUMBERS = ["age", "tenure_months", "monthly_spend", "support_tickets"]
CATEGORIES = ["plan"]
FEATURES = NUMBERS + CATEGORIES
TARGET = "churned"
PARAMS = {"C": 1.0, "max_iter": 500}


def is_holdout(frame: pd.DataFrame) -> pd.Series:
    """Every fifth row is kept out of training, for evaluate.py: the same rows every time."""
    return pd.Series(frame.index % 5 == 0, index=frame.index)


def build_model() -> Pipeline:
    columns = ColumnTransformer(
        [
            ("numbers", StandardScaler(), NUMBERS),
            ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORIES),
        ]
    )
    return Pipeline([("columns", columns), ("classifier", LogisticRegression(**PARAMS))])


def main() -> None:
    dataset = os.environ.get("GNOMON_DATASET", "churn-training")
    # Unchanged content gives back the same version: a re-run makes no new one.
    version = gnomon.log_dataset(DATA, dataset)
    with gnomon.start_run(name="ci-train") as run:
        frame = gnomon.load_dataset(version.ref, context="training")
        train = frame[~is_holdout(frame)]
        model = build_model().fit(train[FEATURES], train[TARGET])
        gnomon.log_params({**PARAMS, "data": version.ref, "rows": len(train)})
        # The whole training frame gives the contract its ranges and every category.
        gnomon.log_model(
            model, "model", input_example=train[FEATURES].head(5), training_data=train[FEATURES]
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "run_id").write_text(run.id + "\n")
    (OUT / "data_ref").write_text(version.ref + "\n")
    print(f"trained run {run.id} on {version.ref}")


if __name__ == "__main__":
    main()
