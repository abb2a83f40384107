"""Change risk from a real embedded store: scikit-learn models logged and registered, real
dataset versions and a real git repository for the commits between two versions."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon.automation.facts import (
    COMMIT_TAG,
    IMAGE_TAG,
    ROOT_TAG,
    assess,
    commit_subjects,
    data_diff,
    version_facts,
)
from gnomon.errors import InvalidInput, NotFound

MODEL = "churn"
FEATURES = ["amount", "age"]
SUBJECTS = ("initial commit", "fix: handle empty rows", "fix(api): keep the column order")


@dataclass(frozen=True)
class Repo:
    root: Path
    commits: list[str]  # oldest first: SUBJECTS, then "refactor the loader"


def _git(root: Path, *args: str) -> str:
    identity = ["-c", "user.name=Risk", "-c", "user.email=risk@example.com"]
    done = subprocess.run(
        ["git", *identity, *args], cwd=root, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "code"
    root.mkdir()
    _git(root, "init", "-q")
    commits = []
    for index, subject in enumerate((*SUBJECTS, "refactor the loader")):
        (root / "serve.py").write_text(f"VERSION = {index}\n")
        _git(root, "add", "serve.py")
        _git(root, "commit", "-q", "-m", subject)
        commits.append(_git(root, "rev-parse", "HEAD"))
    return Repo(root, commits)


def training(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    amount = rng.normal(100.0, 10.0, rows)
    age = rng.integers(18, 90, rows)
    label = (amount + rng.normal(0, 5, rows) > 100).astype("int64")
    return pd.DataFrame({"amount": amount, "age": age, "label": label})


@pytest.fixture
def store(gnomon_home: Path, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    """An embedded store holding tx@1 (the training set) and three later versions:
    tx@2 with half its rows changed, tx@3 with 6% of its labels flipped, tx@4 with 2% more
    rows. The runs' git tags are the test's: the environment capture would record gnomon's."""
    monkeypatch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
    frame = training()
    gnomon.log_dataset(frame, "tx")
    half = frame.copy()
    half.loc[200:, "amount"] += 1.0
    gnomon.log_dataset(half, "tx")
    relabelled = frame.copy()
    relabelled.loc[:23, "label"] = 1 - relabelled.loc[:23, "label"]
    gnomon.log_dataset(relabelled, "tx")
    gnomon.log_dataset(pd.concat([frame, frame.head(8)], ignore_index=True), "tx")
    return frame


def register(
    model: Any,
    frame: pd.DataFrame,
    *,
    commit: str | None = None,
    root: Path | None = None,
    params: dict[str, Any] | None = None,
    data: str = "tx@1",
) -> int:
    """Fit ``model`` on ``frame``, log and register it; its version number."""
    model.fit(frame[FEATURES], frame["label"])
    tags = {COMMIT_TAG: commit, ROOT_TAG: str(root)} if commit and root else {}
    with gnomon.start_run(tags=tags):
        if params:
            gnomon.log_params(params)
        uri = gnomon.log_model(
            model, "model", input_example=frame[FEATURES].head(50), training_data=data
        )
    return gnomon.get_client().registry.register(uri, MODEL).version


def logistic(c: float = 1.0) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c)


# -- facts -----------------------------------------------------------------------------------


def test_version_facts_read_the_versions_lineage(store: pd.DataFrame, repo: Repo) -> None:
    import sklearn

    commit = repo.commits[0]
    version = register(logistic(), store, commit=commit, root=repo.root, params={"C": 1.0})
    client = gnomon.get_client()
    client.registry.set_version_tag(MODEL, version, IMAGE_TAG, "registry.local/churn:1")
    facts = version_facts(client, MODEL, version)
    assert (facts.model, facts.version, facts.flavor) == (MODEL, version, "sklearn")
    assert facts.model_class == "sklearn.linear_model._logistic.LogisticRegression"
    assert (facts.params, facts.commit, facts.commit_subjects) == ({"C": "1.0"}, commit, ())
    assert facts.packages["scikit-learn"] == sklearn.__version__
    assert "python" in facts.packages and "numpy" in facts.packages
    assert facts.image == "registry.local/churn:1"
    assert facts.inputs == {"amount": "float64", "age": "int64"}
    assert facts.outputs is not None and len(facts.outputs) == 1
    assert facts.training_data == "tx@1"
    with pytest.raises(NotFound):
        version_facts(client, MODEL, 99)


def test_a_pipelines_class_is_its_final_estimators(store: pd.DataFrame) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    forest = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5))
    facts = version_facts(gnomon.get_client(), MODEL, register(forest, store))
    assert facts.model_class == "sklearn.ensemble._forest.RandomForestClassifier"
    assert (facts.commit, facts.params) == (None, {})


def test_a_folder_without_requirements_takes_what_its_run_had_installed(
    gnomon_home: Path, tmp_path: Path
) -> None:
    from gnomon.automation.facts import _packages

    client = gnomon.get_client()
    experiment = client.tracking.get_or_create_experiment(client.scope, "default")
    run = client.create_run(experiment.id, "train")
    client.log_text(
        run.id, "Scikit_Learn==1.5.0\n# a note\nnumpy==2.1\n", "gnomon/requirements.txt"
    )
    bare = client.create_run(experiment.id, "captured off")
    folder = tmp_path / "mlflow-model"  # no spec, no requirements.txt
    folder.mkdir()
    found = _packages(client, folder, None, run)
    assert found == {"scikit-learn": "1.5.0", "numpy": "2.1"}
    assert _packages(client, folder, None, bare) == {}
    assert _packages(client, folder, None, None) == {}


def test_commit_subjects_read_the_range_newest_first(repo: Repo) -> None:
    first, _, fixed, refactored = repo.commits
    root = str(repo.root)
    assert commit_subjects(root, first, fixed) == tuple(reversed(SUBJECTS[1:]))
    assert commit_subjects(root, first, refactored, limit=2) == ()  # three: too long
    assert commit_subjects(root, fixed, first) == ()  # backwards: nothing in the range
    assert commit_subjects(str(repo.root / "gone"), first, fixed) == ()
    assert commit_subjects(root, "--output=/tmp/x", fixed) == ()
    assert commit_subjects(root, "f" * 40, fixed) == ()  # a commit the repository lacks
    assert commit_subjects(None, first, fixed) == ()
    with pytest.raises(InvalidInput, match="limit"):
        commit_subjects(root, first, fixed, limit=0)


# -- data ------------------------------------------------------------------------------------


def test_data_diff_measures_changed_rows_labels_and_schema(store: pd.DataFrame) -> None:
    client = gnomon.get_client()
    half = data_diff(client, "tx@1", "tx@2", label="label")
    assert half is not None
    assert (half.rows_before, half.rows_after, half.schema_changed) == (400, 400, False)
    assert half.rows_changed_fraction == pytest.approx(0.5)
    assert half.labels_changed_fraction == 0.0  # the changed rows' features are new
    relabelled = data_diff(client, "tx@1", "tx@3", label="label")
    assert relabelled is not None
    assert relabelled.labels_changed_fraction == pytest.approx(24 / 400)
    assert relabelled.rows_changed_fraction == pytest.approx(24 / 400)
    unlabelled = data_diff(client, "tx@1", "tx@3")
    assert unlabelled is not None and unlabelled.labels_changed_fraction is None
    grown = data_diff(client, "tx@1", "tx@4")
    assert grown is not None and grown.rows_changed_fraction == pytest.approx(8 / 408)
    assert grown.detail == "400→408 rows, same columns"


def test_data_diff_sees_a_schema_change(store: pd.DataFrame) -> None:
    gnomon.log_dataset(store.assign(city="Lyon").drop(columns="age"), "wide")
    gnomon.log_dataset(store, "wide")
    found = data_diff(gnomon.get_client(), "wide@1", "wide@2")
    assert found is not None and found.schema_changed
    assert found.rows_changed_fraction == 0.0  # the common columns' rows are all there
    assert "columns added: age; columns removed: city" in found.detail


def test_data_diff_of_plain_files_counts_files(gnomon_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(4):
        (folder / f"{index}.txt").write_text(f"image {index}")
    gnomon.log_dataset(folder, "images")
    (folder / "0.txt").write_text("another image")
    gnomon.log_dataset(folder, "images")
    found = data_diff(gnomon.get_client(), "images@1", "images@2")
    assert found is not None
    assert (found.rows_before, found.rows_after, found.rows_changed_fraction) == (4, 4, 0.25)
    assert found.detail == "4→4 files: 0 added, 0 removed, 1 changed"


def test_data_diff_refuses_bad_input(store: pd.DataFrame) -> None:
    client = gnomon.get_client()
    with pytest.raises(InvalidInput, match="label column 'target' is in neither tx@1 nor tx@2"):
        data_diff(client, "tx@1", "tx@2", label="target")
    with pytest.raises(NotFound):
        data_diff(client, "tx@1", "nope@1")


# -- assess ----------------------------------------------------------------------------------


def test_same_code_other_hyperparameters_is_medium(store: pd.DataFrame, repo: Repo) -> None:
    commit = repo.commits[1]
    old = register(logistic(1.0), store, commit=commit, root=repo.root, params={"C": 1.0})
    new = register(logistic(0.1), store, commit=commit, root=repo.root, params={"C": 0.1})
    risk = assess(gnomon.get_client(), MODEL, new, old)
    assert risk.level == "medium"
    assert risk.reasons == ["hyperparameters changed: C 1.0→0.1"]


def test_logistic_regression_to_random_forest_is_high(store: pd.DataFrame) -> None:
    from sklearn.ensemble import RandomForestClassifier

    old = register(logistic(), store)
    new = register(RandomForestClassifier(n_estimators=5), store)
    risk = assess(gnomon.get_client(), MODEL, new, old)
    assert risk.level == "high"
    assert risk.reasons == [
        "architecture or model type changed: model class LogisticRegression→RandomForestClassifier"
    ]


def test_half_the_rows_changed_is_a_major_data_change(store: pd.DataFrame) -> None:
    old = register(logistic(), store, data="tx@1")
    new = register(logistic(), store, data="tx@2")
    risk = assess(gnomon.get_client(), MODEL, new, old)
    assert risk.level == "medium"
    assert [c.kind for c in risk.changes] == ["data"]
    assert risk.reasons[0].startswith(
        "major training data change (tx@1→tx@2): 50% of rows changed (major from 10%)"
    )


def test_relabelling_is_major_only_when_the_label_is_named(store: pd.DataFrame) -> None:
    old = register(logistic(), store, data="tx@1")
    new = register(logistic(), store, data="tx@3")
    client = gnomon.get_client()
    labelled = assess(client, MODEL, new, old, label="label")
    assert labelled.level == "medium"
    assert "6% of labels changed (major from 5%)" in labelled.reasons[0]
    unlabelled = assess(client, MODEL, new, old)
    assert unlabelled.level == "low"
    assert unlabelled.reasons[0].startswith("minor training data change (tx@1→tx@3): 6% of rows")


def test_a_few_more_rows_is_a_minor_data_change(store: pd.DataFrame) -> None:
    old = register(logistic(), store, data="tx@1")
    new = register(logistic(), store, data="tx@4")
    risk = assess(gnomon.get_client(), MODEL, new, old)
    assert (risk.level, [c.kind for c in risk.changes]) == ("low", ["data"])


def test_a_range_of_fixes_is_low_and_a_refactor_is_medium(store: pd.DataFrame, repo: Repo) -> None:
    first, _, fixed, refactored = repo.commits
    v1 = register(logistic(), store, commit=first, root=repo.root)
    v2 = register(logistic(), store, commit=fixed, root=repo.root)
    v3 = register(logistic(), store, commit=refactored, root=repo.root)
    client = gnomon.get_client()
    fix = assess(client, MODEL, v2, v1)
    assert fix.level == "low"
    assert fix.reasons == [
        f"serving code bug fix ({first[:7]}..{fixed[:7]}, 2 commits): "
        "'fix(api): keep the column order', 'fix: handle empty rows'"
    ]
    refactor = assess(client, MODEL, v3, v2)
    assert refactor.level == "medium"
    assert refactor.reasons[0].endswith(
        "1 of 1 commit could not be read as fixes: 'refactor the loader'"
    )


def test_an_unreachable_repository_makes_a_code_change_medium(
    store: pd.DataFrame, repo: Repo, tmp_path: Path
) -> None:
    first, _, fixed, _ = repo.commits
    v1 = register(logistic(), store, commit=first, root=tmp_path / "elsewhere")
    v2 = register(logistic(), store, commit=fixed, root=tmp_path / "elsewhere")
    risk = assess(gnomon.get_client(), MODEL, v2, v1)
    assert risk.level == "medium"
    assert "the repository is not reachable here" in risk.reasons[0]


def test_the_same_version_twice_is_refused(store: pd.DataFrame) -> None:
    version = register(logistic(), store)
    with pytest.raises(InvalidInput, match="the candidate and the champion are the same version"):
        assess(gnomon.get_client(), MODEL, version, version)
