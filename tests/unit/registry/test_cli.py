"""``gnomon models ...`` end to end through the root app, each test in its own GNOMON_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

import gnomon
from tests.fixtures.cli import fails, ok, ok_json


def frame(seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"age": rng.uniform(20, 60, 40), "income": rng.uniform(1, 10, 40)})
    y = pd.Series((x["age"] / 10 + x["income"] > 8).astype(int), name="y")
    return x, y


def train(
    metrics: dict[str, float],
    c: float = 1.0,
    experiment: str = "churn",
    log: bool = True,
    data: str | None = None,
) -> tuple[str, LogisticRegression]:
    """A finished run of ``experiment`` logging ``metrics`` and (unless ``log`` is false)
    a LogisticRegression under "model"; returns the run id and the model."""
    x, y = frame()
    model = LogisticRegression(C=c, max_iter=1000).fit(x, y)
    gnomon.set_experiment(experiment)
    with gnomon.start_run() as run:
        gnomon.log_param("C", c)
        gnomon.log_metrics(metrics)
        if log:
            gnomon.log_model(model, "model", input_example=x, training_data=data)
    gnomon.flush()
    return run.id, model


def register(run_id: str, name: str = "churn", *extra: str) -> str:
    return ok("models", "register", f"runs:/{run_id}/model", name, *extra)


# -- list, show, register --------------------------------------------------------------------


def test_register_list_and_show(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    out = register(run_id, "churn", "--alias", "prod", "--description", "first")
    assert out.startswith("registered churn version 1")
    register(run_id, "churn")

    listed = ok_json("models", "list")
    assert [(m["name"], m["latest_version"], m["aliases"]) for m in listed] == [
        ("churn", 2, {"prod": 1})
    ]
    table = ok("models", "list")
    assert "churn" in table and "@prod→v1" in table

    shown = ok_json("models", "show", "churn")
    assert shown["model"]["name"] == "churn"
    versions = {v["version"]: v for v in shown["versions"]}
    assert versions[1]["aliases"] == ["prod"] and versions[1]["description"] == "first"
    assert versions[2]["run_id"] == run_id and versions[2]["flavor"] == "sklearn"
    text = ok("models", "show", "churn")
    assert run_id in text and "READY" in text and "first" in text


def test_list_filters_by_name_pattern(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    register(run_id, "churn")
    register(run_id, "fraud")
    assert [m["name"] for m in ok_json("models", "list", "--name-like", "fr%")] == ["fraud"]


def test_register_a_run_without_a_model_is_one_line(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9}, log=False)
    line = fails("models", "register", f"runs:/{run_id}/model", "churn")
    assert run_id in line and "no gnomon model" in line


def test_show_unknown_model_is_one_line(gnomon_home: Path) -> None:
    assert "nope" in fails("models", "show", "nope")


def test_show_includes_a_versions_contract(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    register(run_id, "churn", "--alias", "prod")
    register(run_id)
    ok("models", "contract", "edit", "churn", "1", "-c", "age", "--max", "77")

    shown = ok_json("models", "show", "churn")
    assert shown["contract"]["version"] == 2  # the latest by default
    inputs = shown["contract"]["contract"]["inputs"]
    assert [(c["name"], c["dtype"]) for c in inputs] == [("age", "float64"), ("income", "float64")]
    assert [c["dtype"] for c in shown["contract"]["contract"]["outputs"]] == ["int64"]
    by_alias = ok_json("models", "show", "churn", "--version", "prod")["contract"]
    assert by_alias["version"] == 1 and by_alias["contract"]["inputs"][0]["maximum"] == 77

    text = ok("models", "show", "churn", "--version", "1")
    assert "Inputs of churn version 1" in text and "Outputs of churn version 1" in text
    assert "income" in text and "77" in text and "margin: 0.1" in text
    assert "version 9" in fails("models", "show", "churn", "--version", "9")


def test_show_a_model_without_a_ready_version(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    register(run_id)
    ok("models", "archive", "churn", "1")
    assert ok_json("models", "show", "churn")["contract"] is None
    assert "Inputs" not in ok("models", "show", "churn")


# -- aliases, archive, delete ----------------------------------------------------------------


def test_alias_set_rm_and_history(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    register(run_id)
    register(run_id)
    assert ok("models", "alias", "set", "churn", "prod", "1").strip() == "churn@prod → version 1"
    moved = ok("models", "alias", "set", "churn", "prod", "2")
    assert "version 2 (was version 1)" in moved
    assert "was version 2" in ok("models", "alias", "rm", "churn", "prod")

    history = ok_json("models", "alias", "history", "churn", "--alias", "prod")
    moves = [(e["previous"], e["version"]) for e in history]
    assert moves == [(None, 1), (1, 2), (2, None)]
    assert all(e["actor"] and e["alias"] == "prod" for e in history)
    table = ok("models", "alias", "history", "churn")
    assert "removed" in table and history[0]["actor"] in table


def test_archive_then_delete_versions_and_model(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    register(run_id)
    register(run_id)
    assert ok("models", "archive", "churn", "2").strip() == "archived churn version 2"
    statuses = {v["version"]: v["status"] for v in ok_json("models", "show", "churn")["versions"]}
    assert statuses == {1: "READY", 2: "ARCHIVED"}

    assert "churn" in fails("models", "delete-model", "churn")  # versions are left
    ok("models", "delete", "churn", "1")
    ok("models", "delete", "churn", "2")
    assert ok_json("models", "show", "churn")["versions"] == []
    ok("models", "delete-model", "churn")
    assert ok_json("models", "list") == []


# -- compare ---------------------------------------------------------------------------------


def test_compare_versions_side_by_side_with_lineage(gnomon_home: Path) -> None:
    first, _ = train({"acc": 0.8, "loss": 0.5}, c=0.5, data="s3://data/v1")
    second, _ = train({"acc": 0.9, "loss": 0.5}, c=2.0, data="s3://data/v2")
    register(first)
    register(second, "churn", "--alias", "prod")

    out = ok_json("models", "compare", "churn", "1", "prod")
    assert [(v["version"], v["run_id"]) for v in out["versions"]] == [(1, first), (2, second)]
    rows = {(r["section"], r["key"]): r for r in out["rows"]}
    assert rows["params", "C"]["values"] == {"v1": "0.5", "v2": "2.0"}
    assert rows["params", "C"]["differs"] is True
    assert rows["metrics", "acc"]["best"] == ["v2"]
    assert rows["metrics", "loss"]["differs"] is False
    lineage = {key: row for (section, key), row in rows.items() if section == "lineage"}
    assert lineage["run id"]["values"] == {"v1": first, "v2": second}
    assert lineage["source"]["values"]["v1"] == f"runs:/{first}/model"
    assert lineage["data"]["values"] == {"v1": "s3://data/v1", "v2": "s3://data/v2"}
    assert lineage["flavor"]["differs"] is False
    assert {"code", "branch", "dirty", "created by"} <= set(lineage)

    table = ok("models", "compare", "churn", "1", "2")
    assert "Lineage" in table and "0.9 ★" in table and "s3://data/v2" in table


def evaluated_run(c: float, baseline: LogisticRegression | None = None) -> tuple[str, object]:
    """A run that logs a model and evaluates it (against ``baseline``, with a verdict)."""
    x, y = frame()
    model = LogisticRegression(C=c, max_iter=1000).fit(x, y)
    thresholds = {"f1": {"min_delta": -1.0}} if baseline is not None else None
    with gnomon.start_run() as run:
        gnomon.log_model(model, "model", input_example=x)
        gnomon.evaluate(model, x.assign(y=y), "y", baseline=baseline, thresholds=thresholds)
    gnomon.flush()
    return run.id, model


def test_compare_shows_each_versions_evaluation(gnomon_home: Path) -> None:
    first, champion = evaluated_run(0.01)
    second, _ = evaluated_run(10.0, baseline=champion)
    register(first)
    register(second)

    rows = {
        (r["section"], r["key"]): r for r in ok_json("models", "compare", "churn", "1", "2")["rows"]
    }
    evaluation = [key for section, key in rows if section == "evaluation"]
    assert evaluation == [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
        "verdict",
        "baseline",
    ]
    assert ("metrics", "eval_f1") not in rows  # moved, not repeated
    f1 = gnomon.get_client().get_run(second).metrics["eval_f1"]
    assert rows["evaluation", "f1"]["values"]["v2"] == f1
    assert rows["evaluation", "log_loss"]["best"] == ["v2"]  # lower is better: less regularised
    assert rows["evaluation", "verdict"]["values"] == {"v1": None, "v2": "passed"}
    assert ("metrics", "eval_baseline_f1") not in rows  # the baseline's, not the version's

    table = ok("models", "compare", "churn", "1", "2")
    assert "Evaluation" in table and "passed" in table and "roc_auc" in table


def test_compare_without_data_skips_the_download(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.8})
    register(run_id)
    register(run_id)
    out = ok_json("models", "compare", "churn", "1", "2", "--no-data")
    keys = {r["key"] for r in out["rows"] if r["section"] == "lineage"}
    assert "data" not in keys and "source" in keys


def test_compare_prints_logged_markup_as_it_is(gnomon_home: Path) -> None:
    # Rich would read these as a hidden link and an error, were they markup.
    link, broken = "[link=https://evil.example]x[/link]", "[/oops]"
    x, y = frame()
    model = LogisticRegression(max_iter=1000).fit(x, y)
    gnomon.set_experiment("churn")
    for text in (link, broken):
        with gnomon.start_run(text) as run:
            gnomon.log_param("note", text)
            gnomon.log_model(model, "model")
        gnomon.flush()
        register(run.id)
    table = ok("models", "compare", "churn", "1", "2", "--no-data")
    assert link in table and broken in table  # in the run names heading columns, and params


def test_compare_needs_two_different_versions(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.8})
    register(run_id, "churn", "--alias", "prod")
    assert "two different versions" in fails("models", "compare", "churn", "1", "prod")


# -- best ------------------------------------------------------------------------------------


def test_best_registers_and_the_alias_loads(gnomon_home: Path) -> None:
    train({"acc": 0.7}, c=0.1)
    best_id, best_model = train({"acc": 0.95}, c=1.0)
    train({"acc": 0.8}, c=10.0)
    train({"acc": 0.99}, experiment="other")

    out = ok(
        "models", "best", "-e", "churn", "--metric", "acc", "--register", "churn", "--alias", "prod"
    )
    assert best_id in out and "acc=0.95" in out
    assert "registered churn version 1 (@prod)" in out

    loaded = gnomon.load_model("models:/churn@prod")
    x, _ = frame(seed=1)
    assert (loaded.predict(x) == best_model.predict(x)).all()


def test_best_lower_is_better_is_guessed_and_can_be_forced(gnomon_home: Path) -> None:
    low, _ = train({"loss": 0.1, "acc": 0.7})
    high, _ = train({"loss": 0.9, "acc": 0.9})
    picked = ok_json("models", "best", "-e", "churn", "-m", "loss")
    assert picked["run"]["id"] == low and picked["lower_is_better"] is True
    assert picked["version"] is None
    forced = ok_json("models", "best", "-e", "churn", "-m", "loss", "--higher-is-better")
    assert forced["run"]["id"] == high
    reverse = ok_json("models", "best", "-e", "churn", "-m", "acc", "--lower-is-better")
    assert reverse["run"]["id"] == low


def test_best_with_a_filter(gnomon_home: Path) -> None:
    train({"acc": 0.9}, c=1.0)
    small, _ = train({"acc": 0.8}, c=0.5)
    picked = ok_json("models", "best", "-e", "churn", "-m", "acc", "-f", "params.C = '0.5'")
    assert picked["run"]["id"] == small


def test_best_without_a_matching_run_is_one_line(gnomon_home: Path) -> None:
    train({"acc": 0.9})
    line = fails("models", "best", "-e", "churn", "-m", "f1")
    assert "no FINISHED run" in line and "'f1'" in line


# -- contracts -------------------------------------------------------------------------------


def test_contract_show_and_edit(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    register(run_id, "churn", "--alias", "prod")
    shown = ok_json("models", "contract", "show", "churn")
    assert shown["version"] == 1
    assert [c["name"] for c in shown["contract"]["inputs"]] == ["age", "income"]
    table = ok("models", "contract", "show", "churn", "prod")
    assert "age" in table and "float64" in table

    ok("models", "contract", "edit", "churn", "prod", "-c", "age", "--min", "18", "--max", "99")
    ok("models", "contract", "edit", "churn", "1", "-c", "income", "--nullable")
    inputs = {
        c["name"]: c
        for c in ok_json("models", "contract", "show", "churn", "1")["contract"]["inputs"]
    }
    assert (inputs["age"]["minimum"], inputs["age"]["maximum"]) == (18, 99)
    assert inputs["income"]["nullable"] is True
    text = ok("models", "contract", "show", "churn")
    assert "99" in text


def test_contract_edit_categories(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    register(run_id)
    ok("models", "contract", "edit", "churn", "1", "-c", "age", "--categories", "20,30")
    age = ok_json("models", "contract", "show", "churn")["contract"]["inputs"][0]
    assert age["categories"] == [20.0, 30.0]
    ok("models", "contract", "edit", "churn", "1", "-c", "age", "--categories", "")
    assert (
        "categories" not in ok_json("models", "contract", "show", "churn")["contract"]["inputs"][0]
    )


def test_contract_edit_errors(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    register(run_id)
    line = fails("models", "contract", "edit", "churn", "1", "-c", "height", "--max", "2")
    assert "'height'" in line and "(columns: age, income)" in line
    assert "nothing to change" in fails("models", "contract", "edit", "churn", "1", "-c", "age")
    assert "above maximum" in fails(
        "models", "contract", "edit", "churn", "1", "-c", "age", "--min", "5", "--max", "1"
    )


# -- import-mlflow and load-check ------------------------------------------------------------


def mlflow_folder(root: Path, model: LogisticRegression, x: pd.DataFrame) -> Path:
    import cloudpickle

    folder = root / "mlflow-model"
    folder.mkdir()
    mlmodel = {
        "flavors": {
            "sklearn": {"pickled_model": "model.pkl", "serialization_format": "cloudpickle"},
            "python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.pkl"},
        },
        "saved_input_example_info": {
            "artifact_path": "input_example.json",
            "type": "dataframe",
            "pandas_orient": "split",
        },
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (folder / "model.pkl").write_bytes(cloudpickle.dumps(model))
    example = {"columns": list(x.columns), "data": x.head(5).to_numpy().tolist()}
    (folder / "input_example.json").write_text(json.dumps(example))
    return folder


def test_import_mlflow_then_load_by_alias(gnomon_home: Path, tmp_path: Path) -> None:
    x, y = frame()
    model = LogisticRegression(max_iter=1000).fit(x, y)
    folder = mlflow_folder(tmp_path, model, x)
    out = ok("models", "import-mlflow", str(folder), "imported", "--alias", "prod")
    assert out.startswith("registered imported version 1")

    loaded = gnomon.load_model("models:/imported@prod")
    assert (loaded.predict(x) == model.predict(x)).all()
    version = ok_json("models", "show", "imported")["versions"][0]
    assert version["run_id"] is None and version["source"].startswith("mlflow:")

    ok("models", "import-mlflow", str(folder), "imported")
    compared = ok_json("models", "compare", "imported", "1", "2")
    lineage = {r["key"]: r for r in compared["rows"] if r["section"] == "lineage"}
    assert lineage["run id"]["values"] == {"v1": None, "v2": None}
    assert not [r for r in compared["rows"] if r["section"] != "lineage"]


def test_import_mlflow_of_a_plain_folder_is_one_line(gnomon_home: Path, tmp_path: Path) -> None:
    assert "MLmodel" in fails("models", "import-mlflow", str(tmp_path), "imported")


def test_load_check(gnomon_home: Path) -> None:
    run_id, _ = train({"acc": 0.9})
    register(run_id)
    text = ok("models", "load-check", "models:/churn/1")
    assert "flavor sklearn" in text and "predict_proba yes" in text and "age: float64" in text
    out = ok_json("models", "load-check", f"runs:/{run_id}/model")
    assert out["flavor"] == "sklearn" and out["predict_proba"] is True


@pytest.mark.parametrize(("uri", "named"), [("models:/nope/1", "'nope'"), ("x/y", "'x/y'")])
def test_load_check_of_a_missing_model_is_one_line(gnomon_home: Path, uri: str, named: str) -> None:
    assert named in fails("models", "load-check", uri)
