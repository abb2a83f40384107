"""``gnomon lineage prediction REQUEST_ID`` end to end: a model trained from a script in a
real git repository (params, a dataset version input, a feature view), registered, deployed
and served by a real uvicorn; its predictions traced back from the CLI, the embedded API and
a live API server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import gnomon
from gnomon import backends
from gnomon.config import Settings
from gnomon.errors import InvalidInput, NotFound
from gnomon.pipelines import prediction_records
from gnomon.serving.loading import ServeOptions, build_app
from gnomon.tracking import fluent
from tests.fixtures.cli import fails, ok, ok_json
from tests.fixtures.server import LiveServer, run_uvicorn, serve

DEPLOYMENT = "churn-api"
ROWS = [{"x": 1.5, "y": 0.2}, {"x": -2.0, "y": 0.1}, {"x": 0.3, "y": -1.0}]

TRAIN = """
import pandas as pd
from sklearn.linear_model import LogisticRegression
import gnomon

frame = pd.DataFrame(
    {"x": [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], "y": [0.1, 0.4, -0.3, 0.2, -0.1, 0.3]}
)
labels = (frame["x"] > 0).astype(int)
data = gnomon.log_dataset(frame.assign(label=labels), "churn-data")
with gnomon.start_run("fit-churn") as run:
    gnomon.log_input(data.ref, context="training")
    gnomon.log_params({"C": 0.5, "max_iter": 200})
    gnomon.set_tags({"gnomon.features.user_stats": "2"})  # what get_training_frame records
    model = LogisticRegression(C=0.5, max_iter=200).fit(frame, labels)
    uri = gnomon.log_model(model, "model", input_example=frame)
# The tag the register component of a pipeline sets.
gnomon.register_model(uri, "churn", tags={"gnomon.pipeline.run": "p" * 32})
print(run.id)
"""


@dataclass
class World:
    run_id: str
    commit: str
    single: str  # a one-row request's id
    several: str  # a three-row request's id
    slashed: str  # a client's own X-Request-ID, with a '/'
    api: LiveServer  # an API server over the same store
    before_ms: int
    after_ms: int


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def _train(repo: Path) -> tuple[str, str]:
    """Run the training script committed in ``repo``; its run id and the commit."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "train.py").write_text(TRAIN)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "train churn")
    done = subprocess.run(
        [sys.executable, str(repo / "train.py")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1], _git(repo, "rev-parse", "HEAD")


def _predict(url: str, rows: list[dict[str, float]], request_id: str | None = None) -> str:
    headers = {"X-Request-ID": request_id} if request_id else {}
    answer = httpx.post(f"{url}/predict", json={"records": rows}, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["request_id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One trained, deployed and served model for the module (training takes seconds)."""
    base = tmp_path_factory.mktemp("prediction-lineage")
    with pytest.MonkeyPatch.context() as env:
        for name in ("GNOMON_URI", "GNOMON_ARTIFACTS", "GNOMON_WORKSPACE", "GNOMON_EXPERIMENT"):
            env.delenv(name, raising=False)
        env.setenv("GNOMON_HOME", str(base / "home"))
        fluent._reset()
        (base / "repo").mkdir()
        run_id, commit = _train(base / "repo")
        gnomon.get_client().deployments.create(DEPLOYMENT, "churn/1")
        before = int(time.time() * 1000)
        app = build_app(ServeOptions(deployment=DEPLOYMENT), Settings())
        with run_uvicorn(app, lifespan="on") as url:  # records are written on shutdown
            single = _predict(url, ROWS[:1])
            several = _predict(url, ROWS)
            slashed = _predict(url, ROWS[:1], "order/42 try")
        after = int(time.time() * 1000)
        with serve(Settings(), no_auth=True) as api:
            yield World(run_id, commit, single, several, slashed, api, before, after)
        fluent._reset()
        backends.close_databases()


def test_the_cli_prints_deployment_model_run_commit_data_features_and_params(
    world: World,
) -> None:
    tree = ok("lineage", "prediction", world.single)
    for shown in (
        f"prediction {world.single}",
        f"deployment {DEPLOYMENT}",
        "model churn v1",
        f"run fit-churn  {world.run_id}",
        f"commit {world.commit} on main",
        "training: churn-data@1",
        "user_stats: v2",
        "C: 0.5",
        "max_iter: 200",
        "pipeline run " + "p" * 32,
        'inputs: {"x": 1.5, "y": 0.2}',
    ):
        assert shown in tree, (shown, tree)
    assert "note:" not in tree
    assert ok("lineage", f"prediction:{world.single}") == tree  # the same, as one argument


def test_the_json_answer_holds_the_whole_lineage(world: World) -> None:
    found = ok_json("lineage", "prediction", world.single, "--deployment", DEPLOYMENT)
    assert found["request_id"] == world.single and found["deployment"] == DEPLOYMENT
    assert found["role"] == "primary" and found["rows"] == 1
    assert world.before_ms <= found["time_ms"] <= world.after_ms and found["latency_ms"] > 0
    assert found["model"] | {"source": ""} == {
        "name": "churn",
        "version": 1,
        "aliases": [],
        "flavor": "sklearn",
        "source": "",
    }
    assert found["run"]["id"] == world.run_id and found["run"]["experiment"] == "default"
    assert found["code"] == {"commit": world.commit, "branch": "main", "remote": "", "dirty": False}
    assert found["params"] == {"C": "0.5", "max_iter": "200"}
    assert found["data"] == [{"ref": "churn-data@1", "role": "training"}]
    assert found["features"] == {"user_stats": "2"}
    assert found["pipeline_run_id"] == "p" * 32
    assert found["inputs"] == ROWS[0] and found["outputs"] in (0, 1)


def test_a_bare_id_of_a_request_of_several_rows_is_its_first_row(world: World) -> None:
    api = gnomon.get_client().pipelines
    first = api.prediction_lineage(world.several)
    assert (first.request_id, first.rows, first.inputs) == (f"{world.several}:0", 3, ROWS[0])
    assert any("3 rows" in note for note in first.notes)
    third = api.prediction_lineage(f"{world.several}:2")
    assert (third.rows, third.inputs, third.run) == (1, ROWS[2], first.run)


def test_the_remote_api_answers_as_the_embedded_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded = gnomon.get_client().pipelines
    remote = gnomon.Client(settings=Settings(uri=world.api.url)).pipelines
    for request_id in (world.single, world.several, world.slashed):
        assert remote.prediction_lineage(request_id) == embedded.prediction_lineage(request_id)
    assert remote.prediction_lineage(world.slashed).inputs == ROWS[0]
    with pytest.raises(NotFound, match="no prediction record of deployment 'other'"):
        remote.prediction_lineage(world.single, "other")
    monkeypatch.setenv("GNOMON_URI", world.api.url)
    assert f"commit {world.commit}" in ok("lineage", "prediction", world.slashed)


def test_an_unknown_request_id_is_not_found_naming_it(world: World) -> None:
    message = fails("lineage", "prediction", "no-such-request")
    assert message == "error: no prediction record has request id 'no-such-request'"
    assert "deployment 'other'" in fails(
        "lineage", "prediction", world.single, "--deployment", "other"
    )
    before = str(world.before_ms - 3_600_000 * 3)
    assert "no prediction record" in fails("lineage", "prediction", world.single, "--until", before)
    answer = httpx.get(f"{world.api.url}/api/v1/lineage/prediction/no-such-request")
    assert answer.status_code == 404
    assert "'no-such-request'" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("request_id", "problem"),
    [("x" * 300, "1 to 256 characters"), ("bad\x1b]0;pwned\x07", "control")],
)
def test_hostile_request_ids_are_refused_in_both_modes(
    world: World, request_id: str, problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        gnomon.get_client().pipelines.prediction_lineage(request_id)
    remote = gnomon.Client(settings=Settings(uri=world.api.url)).pipelines
    with pytest.raises(InvalidInput, match=problem):
        remote.prediction_lineage(request_id)
    assert problem in fails("lineage", "prediction", request_id)


def test_a_search_past_the_file_limit_is_a_422_saying_how_to_narrow_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prediction_records, "MAX_FILES", 0)  # the API server: this process
    answer = httpx.get(f"{world.api.url}/api/v1/lineage/prediction/{world.single}")
    assert answer.status_code == 422, answer.text
    assert "narrow it to a deployment or a time span" in answer.json()["error"]["message"]
    assert "narrow it" in fails("lineage", "prediction", world.single)


# (A newline never reaches the handler: a path parameter matches no line break, so the
# answer is "no route", 404, as for every path route.)
@pytest.mark.parametrize(
    "path", ["x" * 300, "bad%1B%5B2Jid", "bad%00id", "a%2F..%2Fb", "ok?deployment=%00"]
)
def test_the_route_refuses_hostile_ids_with_422(world: World, path: str) -> None:
    answer = httpx.get(f"{world.api.url}/api/v1/lineage/prediction/{path}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_input"


def test_other_lineage_refs_are_unchanged(world: World) -> None:
    graph = ok_json("lineage", "model:churn/1", "--upstream")
    assert f"run:{world.run_id}" in {n["id"] for n in graph["nodes"]}
    assert "go with 'lineage prediction' only" in fails("lineage", "model:churn/1", "extra")
    assert "which prediction?" in fails("lineage", "prediction")
