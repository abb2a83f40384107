"""Score the candidate train.py logged against the champion; exit 1 when it falls short.

The champion is the version the alias ``production`` points at (GNOMON_MODEL, default
``churn``). Both are scored on the holdout rows of the data version the candidate trained
on, and the evaluation is logged to the candidate's run (``gnomon models compare`` shows it).
"""

from __future__ import annotations

import os
import sys

from train import OUT, TARGET, is_holdout

import gnomon

# The verdict passes when every condition holds: no more than a point worse than the
# champion on F1 and ROC AUC, and at least 70% accurate whatever the champion scores.
THRESHOLDS: dict[str, dict[str, float | bool]] = {
    "f1": {"min_delta": -0.01},
    "roc_auc": {"min_delta": -0.01},
    "accuracy": {"min_value": 0.7},
}


def main() -> int:
    run_id = (OUT / "run_id").read_text().strip()
    data_ref = (OUT / "data_ref").read_text().strip()
    champion = f"models:/{os.environ.get('GNOMON_MODEL', 'churn')}@production"
    with gnomon.start_run(run_id=run_id):  # resumed: the evaluation sits with the model
        frame = gnomon.load_dataset(data_ref, context="training")
        result = gnomon.evaluate(
            f"runs:/{run_id}/model",
            frame[is_holdout(frame)],
            TARGET,
            baseline=champion,
            thresholds=THRESHOLDS,
            segment_by="plan",
        )
    verdict = result.verdict
    assert verdict is not None  # thresholds were given
    for check in verdict.checks:
        print(("ok    " if check.passed else "FAIL  ") + check.reason)
    print(f"candidate {run_id} against {champion}: {'passed' if verdict.passed else 'failed'}")
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
