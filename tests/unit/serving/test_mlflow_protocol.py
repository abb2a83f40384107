"""The model server speaks MLflow's scoring protocol (as ``mlflow models serve`` 3.17.2 does):
the probes, ``params``, answers in MLflow's shapes and 415 for other content types; and
MLflow's own ``ScoringServerClient`` works against ``gnomon serve``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from bench.venvs import MLFLOW
from gnomon import __version__
from gnomon.modelfolder import infer_contract, load_folder, save_model
from gnomon.serving.app import ServedModel, create_serving_app
from gnomon.serving.batching import BatchConfig
from gnomon.serving.params import MAX_PARAMS
from tests.fixtures.processes import GNOMON, free_port
from tests.fixtures.server import run_uvicorn
from tests.fixtures.services import services_required

EXAMPLE = pd.DataFrame({"x": np.linspace(-100.0, 100.0, 21)})  # the contract: x in [-100, 100]
SPLIT = {"dataframe_split": {"columns": ["x"], "data": [[0.5], [2.0]]}}


def _models() -> dict[str, Any]:
    """pyfunc models, defined here so that cloudpickle stores them by value (a `gnomon serve`
    process loads them without this module on its path)."""
    import time

    class Scorer:  # a DataFrame of a float and an int; takes params
        def __init__(self, delay: float = 0.0) -> None:
            self.delay = delay

        def predict(self, frame: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
            time.sleep(self.delay)  # lets concurrent requests queue into one batch
            scale = (params or {}).get("scale", 1.0)
            return pd.DataFrame(
                {
                    "score": frame["x"] * scale,
                    "flag": (frame["x"] > 1).astype(int),
                    "call_rows": len(frame),  # how many rows the call that answered had
                }
            )

    class Shaped:  # answers in one shape; takes no params
        def __init__(self, kind: str) -> None:
            self.kind = kind

        def predict(self, frame: pd.DataFrame) -> Any:
            x = frame["x"].to_numpy()
            answers = {
                "series": pd.Series(x * 2),
                "named": pd.Series(x * 2, name="p"),
                "dict": {"labels": x > 1, "count": len(x)},
                "matrix": np.column_stack([x, -x]),
            }
            return answers[self.kind]

    return {
        "scorer": Scorer(),
        "slow": Scorer(delay=0.05),
        **{kind: Shaped(kind) for kind in ("series", "named", "dict", "matrix")},
    }


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("mlflow-protocol")
    contract = infer_contract(EXAMPLE)  # given: inferring outputs from a dict answer fails
    for name, model in _models().items():
        save_model(model, root / name, contract=contract)
    return {name: root / name for name in _models()}


def _serve(folder: Path, batching: BatchConfig | None = None) -> Any:
    served = ServedModel(load_folder(folder), folder.name, 1, str(folder), "api", batching=batching)
    return run_uvicorn(create_serving_app(served), lifespan="on")


@pytest.fixture(scope="module")
def scorer(folders: dict[str, Path]) -> Iterator[str]:
    with _serve(folders["scorer"], BatchConfig()) as url:
        yield url


def test_the_probes_answer_as_mlflow_does(scorer: str) -> None:
    for path in ("/ping", "/health"):
        answer = httpx.get(scorer + path)
        assert (answer.status_code, answer.text) == (200, "\n"), path
    version = httpx.get(scorer + "/version")
    assert (version.status_code, version.text) == (200, __version__)


def test_a_dataframe_answer_keeps_its_names_and_types(scorer: str) -> None:
    invoked = httpx.post(scorer + "/invocations", json=SPLIT)
    assert invoked.status_code == 200, invoked.text
    expected = [
        {"score": 0.5, "flag": 0, "call_rows": 2},
        {"score": 2.0, "flag": 1, "call_rows": 2},
    ]
    assert invoked.json()["predictions"] == expected
    assert isinstance(invoked.json()["predictions"][1]["flag"], int)
    predicted = httpx.post(
        scorer + "/predict", json=[{"x": 2.0}]
    )  # lossy before: [[2.0, 1.0, 1.0]]
    assert predicted.json()["predictions"] == [{"score": 2.0, "flag": 1, "call_rows": 1}]


def test_a_batch_of_dataframe_answers_is_shared_out_by_rows(folders: dict[str, Path]) -> None:
    values = [float(i) for i in range(12)]
    with _serve(folders["slow"], BatchConfig()) as url, ThreadPoolExecutor(12) as pool:
        bodies = [{"dataframe_records": [{"x": v}]} for v in values]
        answers = list(pool.map(lambda b: httpx.post(url + "/invocations", json=b), bodies))
    rows = [a.json()["predictions"] for a in answers]
    assert [r[0]["score"] for r in rows] == values  # each request got its own row back
    assert max(r[0]["call_rows"] for r in rows) > 1, "no two requests shared a call"


@pytest.mark.parametrize(
    ("kind", "invocations", "predict"),
    [  # /invocations as MLflow 3.17.2 answers them (checked against `mlflow models serve`)
        ("series", [{"0": 1.0}, {"0": 4.0}], [1.0, 4.0]),
        ("named", [{"p": 1.0}, {"p": 4.0}], [1.0, 4.0]),
        ("dict", {"labels": [False, True], "count": 2}, {"labels": [False, True], "count": 2}),
        ("matrix", [[0.5, -0.5], [2.0, -2.0]], [[0.5, -0.5], [2.0, -2.0]]),
    ],
)
def test_series_dict_and_array_answers_take_mlflow_shapes(
    folders: dict[str, Path], kind: str, invocations: Any, predict: Any
) -> None:
    with _serve(folders[kind]) as url:
        invoked = httpx.post(url + "/invocations", json=SPLIT)
        predicted = httpx.post(url + "/predict", json={"records": [{"x": 0.5}, {"x": 2.0}]})
    assert invoked.json()["predictions"] == invocations
    assert predicted.json()["predictions"] == predict


def test_params_reach_a_model_that_takes_them(scorer: str) -> None:
    answer = httpx.post(scorer + "/invocations", json={**SPLIT, "params": {"scale": 10}})
    assert [row["score"] for row in answer.json()["predictions"]] == [5.0, 20.0]


def test_params_are_refused_by_a_model_that_takes_none(folders: dict[str, Path]) -> None:
    with _serve(folders["series"]) as url:
        refused = httpx.post(url + "/invocations", json={**SPLIT, "params": {"top_k": 3}})
        empty = httpx.post(url + "/invocations", json={**SPLIT, "params": {}})
    assert refused.status_code == 400
    message = refused.json()["error"]["message"]
    assert "'series'" in message and "takes no inference params" in message and "top_k" in message
    assert empty.status_code == 200  # empty params are no params


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ([1, 2], "must be an object"),
        ({f"p{i}": 1 for i in range(MAX_PARAMS + 1)}, f"at most {MAX_PARAMS}"),
        ({"nested": {"a": 1}}, "'nested' holds an object"),
        ({"deep": [[1]]}, "'deep' holds a list"),
        ({"long": list(range(1_001))}, "at most 1000"),
    ],
)
def test_params_are_bounded(scorer: str, params: Any, problem: str) -> None:
    answer = httpx.post(scorer + "/invocations", json={**SPLIT, "params": params})
    assert answer.status_code == 422
    assert problem in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("content_type", "status", "named"),
    [
        ("text/plain", 415, "'text/plain'"),
        ("application/x-www-form-urlencoded", 415, "'application/x-www-form-urlencoded'"),
        ("application/json; charset=latin-1", 415, "UTF-8 only"),
        ("application/json; format=pandas-split", 415, "'format'"),
        ("Application/JSON; charset=UTF-8", 200, None),
        (None, 200, None),  # read as JSON (MLflow's server fails on it with a 500)
    ],
)
def test_content_types_are_checked_as_mlflow_checks_them(
    scorer: str, content_type: str | None, status: int, named: str | None
) -> None:
    headers = {"content-type": content_type} if content_type is not None else {}
    answer = httpx.post(scorer + "/invocations", content=json.dumps(SPLIT), headers=headers)
    assert answer.status_code == status, answer.text
    if named is not None:
        error = answer.json()["error"]
        assert named in error["message"]
        assert error["details"]["accepted"] == ["application/json", "text/csv"]


def test_csv_with_a_charset_is_read(scorer: str) -> None:
    csv = {"content-type": "text/csv; charset=utf-8"}
    answer = httpx.post(scorer + "/invocations", content="x\n0.5\n", headers=csv)
    assert answer.json()["predictions"] == [{"score": 0.5, "flag": 0, "call_rows": 1}]


_MLFLOW_CLIENT = """
import json, sys
import pandas as pd
from mlflow.pyfunc.scoring_server.client import ScoringServerClient

client = ScoringServerClient("127.0.0.1", int(sys.argv[1]))
client.wait_server_ready(timeout=90)
frame = pd.DataFrame({"x": [0.5, 2.0]})
plain = client.invoke(frame).get_predictions()
scaled = client.invoke(frame, params={"scale": 3}).get_predictions()
print(json.dumps({
    "version": client.get_version(),
    "columns": list(plain.columns),
    "dtypes": [str(t) for t in plain.dtypes],
    "plain": plain["score"].tolist(),
    "scaled": scaled["score"].tolist(),
}))
"""


def test_mlflow_scoring_client_works_against_gnomon_serve(
    gnomon_home: Path, folders: dict[str, Path], tmp_path: Path
) -> None:
    if not MLFLOW.is_installed():
        reason = f"MLflow's virtualenv is missing ({MLFLOW.python}): `python -m bench.venvs`"
        if services_required():
            pytest.fail(f"{reason} (GNOMON_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(reason)
    port = free_port()
    server = subprocess.Popen(
        [GNOMON, "serve", str(folders["scorer"]), "--port", str(port), "--no-records"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GNOMON_", "MLFLOW_"))}
    clean.pop("PYTHONPATH", None)
    try:  # wait_server_ready() polls /ping while the server starts
        client = subprocess.run(
            [str(MLFLOW.python), "-c", _MLFLOW_CLIENT, str(port)],
            env=clean,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert client.returncode == 0, f"{client.stderr[-3000:]}\nserver: {output[-2000:]}"
    seen = json.loads(client.stdout.strip().splitlines()[-1])
    assert seen == {
        "version": __version__,
        "columns": ["score", "flag", "call_rows"],
        "dtypes": ["float64", "int64", "int64"],
        "plain": [0.5, 2.0],
        "scaled": [1.5, 6.0],
    }
