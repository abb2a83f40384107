"""step_entry, the command a compiled workflow's container runs, run for real as processes
on a local artifacts folder: chained by hand, and driven by the compiled Argo and Kubeflow
documents the way each engine fills in their placeholders."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gnomon.pipelines.compile_argo import argo_workflow
from gnomon.pipelines.compile_kfp import kfp_pipeline
from gnomon.pipelines.materialize import decode
from gnomon.pipelines.objects import ObjectsAddress

MODULE = "gnomon_step_entry_example"
SOURCE = """
import time

import gnomon


@gnomon.step
def make(n: int, offset: int = 0) -> list[int]:
    print("making", n)
    return [i + offset for i in range(n)]


@gnomon.step(outputs=["low", "high"])
def split(values: list[int]) -> tuple[list[int], list[int]]:
    return values[:1], values[1:]


@gnomon.step(retries=1, timeout=60)
def total(values: list[int], scale: float, label: str) -> str:
    return f"{label}={sum(values) * scale}"


@gnomon.pipeline
def chain(n: int, scale: float = 1.5):
    low, high = split(make(n))
    return total(high, scale, "sum")


@gnomon.step
def part(values: list[int], index: int) -> int:
    return values[index]


@gnomon.step
def added(values: list[int]) -> int:
    return sum(values)


@gnomon.pipeline
def gathered(n: int):
    values = make(n)
    return added([part(values, i) for i in range(3)])


@gnomon.step
def boom(text: str) -> str:
    raise ValueError("no good: " + text)


@gnomon.step
def slow(text: str) -> str:
    time.sleep(30)
    return text


@gnomon.pipeline
def failing(text: str = "x"):
    return boom(text), slow(text)
"""


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with the pipeline's module, importable here too (to compile it)."""
    folder = tmp_path_factory.mktemp("code")
    (folder / f"{MODULE}.py").write_text(SOURCE)
    sys.path.insert(0, str(folder))
    try:
        importlib.import_module(MODULE)
    finally:
        sys.path.remove(str(folder))
    yield folder


class Runner:
    """Runs step_entry as a container would: its own process, settings from the environment."""

    def __init__(self, code: Path, tmp_path: Path) -> None:
        self.code = code
        self.artifacts = tmp_path / "artifacts"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_")}
        self.env |= {
            "GNOMON_HOME": str(tmp_path / "home"),
            "GNOMON_ARTIFACTS": str(self.artifacts),
            "GNOMON_WORKSPACE": "default",
            "PYTHONPATH": str(code),
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gnomon.pipelines.step_entry", *args],
            cwd=self.code,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def value(self, outputs_json: str, name: str = "output") -> Any:
        meta = next(m for m in json.loads(outputs_json) if m["name"] == name)
        objects = ObjectsAddress(str(self.artifacts), "default").open()
        return decode(meta["kind"], objects.get(meta["digest"]), None)


@pytest.fixture
def run(code: Path, tmp_path: Path) -> Runner:
    return Runner(code, tmp_path)


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


def test_two_nodes_chained_by_hand(run: Runner, tmp_path: Path) -> None:
    pipeline = f"{MODULE}:chain"
    made = _ok(run("--pipeline", pipeline, "--node", "make", "--param", "n=4", "--out", "a.json"))
    assert "making 4" in made.stdout  # the step's printed output reaches the container log
    first = (run.code / "a.json").read_text()
    assert run.value(first) == [0, 1, 2, 3]
    out = tmp_path / "deep" / "b.json"
    _ok(
        run(
            "--pipeline",
            pipeline,
            "--node",
            "split",
            "--upstream",
            "make",
            first,
            "--out",
            str(out),
        )
    )
    assert [m["name"] for m in json.loads(out.read_text())] == ["low", "high"]
    assert run.value(out.read_text(), "high") == [1, 2, 3]

    high = next(m for m in json.loads(out.read_text()) if m["name"] == "high")
    final = tmp_path / "c.json"
    _ok(
        run(
            "--pipeline", pipeline, "--node", "total", "--params", '{"n": 4, "scale": 2}',
            "--inputs", json.dumps({"values": high}), "--out", str(final),
        )
    )  # fmt: skip
    assert run.value(final.read_text()) == "sum=12"


def test_a_compiled_argo_workflow_runs_as_argo_would_run_it(run: Runner, tmp_path: Path) -> None:
    module = importlib.import_module(MODULE)
    written = _run_as_argo(run, tmp_path, argo_workflow(module.chain.build(), {"n": 5}, "image:1"))
    assert run.value(written["total"]) == "sum=15.0"  # (1+2+3+4) * 1.5


def test_a_list_of_outputs_fans_in_under_argo(run: Runner, tmp_path: Path) -> None:
    module = importlib.import_module(MODULE)
    document = argo_workflow(module.gathered.build(), {"n": 5}, "image:1")
    written = _run_as_argo(run, tmp_path, document)
    assert run.value(written["added"]) == 0 + 1 + 2


def _run_as_argo(run: Runner, tmp_path: Path, document: dict[str, Any]) -> dict[str, str]:
    """Each task of the workflow's DAG as a process, its placeholders filled as Argo would."""
    spec = document["spec"]
    given = {p["name"]: p["value"] for p in spec["arguments"]["parameters"]}
    templates = {t["name"]: t for t in spec["templates"]}
    written: dict[str, str] = {}
    for task in templates[spec["entrypoint"]]["dag"]["tasks"]:  # already in a runnable order
        assert set(task.get("dependencies", [])) <= set(written)
        task_values = {
            "tasks." + name + ".outputs.parameters.outputs": written[name] for name in written
        }
        inputs = {
            "inputs.parameters." + p["name"]: _fill(p["value"], task_values.__getitem__)
            for p in task.get("arguments", {}).get("parameters", [])
        }
        template = templates[task["template"]]
        out_path = template["outputs"]["parameters"][0]["valueFrom"]["path"]
        local_out = tmp_path / f"{task['name']}.json"
        values = {
            **inputs,
            **{"workflow.parameters." + k: v for k, v in given.items()},
            "workflow.uid": "uid-1",
            "retries": "0",
        }
        args = [_fill(a, values.__getitem__) for a in template["container"]["args"]]
        args = [str(local_out) if a == out_path else a for a in args]
        _ok(run(*args))
        written[task["name"]] = local_out.read_text()
    return written


def test_a_compiled_kfp_pipeline_runs_as_kubeflow_would_run_it(run: Runner, tmp_path: Path) -> None:
    module = importlib.import_module(MODULE)
    document = kfp_pipeline(module.chain.build(), {"scale": 3}, "image:1")
    params = {"n": 3}  # the required one, given when the run is created
    for name, found in document["root"]["inputDefinitions"]["parameters"].items():
        params.setdefault(name, found.get("defaultValue"))
    executors = document["deploymentSpec"]["executors"]
    written: dict[str, str] = {}
    for name, task in document["root"]["dag"]["tasks"].items():
        assert set(task.get("dependentTasks", [])) <= set(written)
        inputs = {}
        for key, source in task.get("inputs", {}).get("parameters", {}).items():
            if "componentInputParameter" in source:
                inputs[key] = _kfp_text(params[source["componentInputParameter"]])
            else:
                inputs[key] = written[source["taskOutputParameter"]["producerTask"]]
        component = document["components"][task["componentRef"]["name"]]
        container = executors[component["executorLabel"]]["container"]
        local_out = tmp_path / f"{name}.json"
        values = {f"$.inputs.parameters['{k}']": v for k, v in inputs.items()}
        values["$.outputs.parameters['outputs'].output_file"] = str(local_out)
        values["$.pipeline_job_uuid"] = "job-1"
        _ok(run(*(_fill(a, values.__getitem__) for a in container["args"])))
        written[name] = local_out.read_text()
    assert run.value(written["total"]) == "sum=9.0"  # (1+2) * 3


def _fill(text: str, lookup: Callable[[str], str]) -> str:
    """Fill ``{{name}}`` placeholders; an unknown one fails the test (KeyError)."""
    return re.sub(r"\{\{(.+?)}}", lambda m: lookup(m.group(1)), text)


def _kfp_text(value: Any) -> str:
    """How the KFP launcher writes a parameter's value into a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


def test_failures_exit_non_zero_with_the_error_on_stderr(run: Runner, tmp_path: Path) -> None:
    out = tmp_path / "never.json"
    failing, chain = f"{MODULE}:failing", f"{MODULE}:chain"
    calls: Mapping[str, tuple[str, ...]] = {
        "raised": ("--pipeline", failing, "--node", "boom", "--param", "text=hi"),
        "slow": ("--pipeline", failing, "--node", "slow", "--timeout", "0.5"),
        "no upstream": ("--pipeline", chain, "--node", "split"),
        "no param": ("--pipeline", chain, "--node", "make"),
        "bad json": ("--pipeline", chain, "--node", "split", "--upstream", "make", "[{"),
        "no node": ("--pipeline", chain, "--node", "nope"),
        "no pipeline": ("--pipeline", f"{MODULE}:missing", "--node", "make"),
    }
    with ThreadPoolExecutor(len(calls)) as pool:
        done = dict(
            zip(calls, pool.map(lambda a: run(*a, "--out", str(out)), calls.values()), strict=True)
        )
    assert not out.exists()
    assert done["raised"].returncode == 1
    assert "step 'boom' failed: ValueError: no good: hi" in done["raised"].stderr
    assert 'raise ValueError("no good: " + text)' in done["raised"].stderr  # its traceback
    assert done["slow"].returncode == 1
    assert "TimeoutError: the step ran past its timeout of 0.5 seconds" in done["slow"].stderr
    expected = {
        "no upstream": "input 'values' reads step 'make', whose outputs are not given",
        "no param": "step 'make' needs pipeline parameter 'n'",
        "bad json": "--upstream make is not JSON",
        "no node": "has no step 'nope'",
        "no pipeline": "has no 'missing'",
    }
    for case, message in expected.items():
        assert done[case].returncode == 2, (case, done[case].stderr)
        assert message in done[case].stderr, (case, done[case].stderr)
        assert "Traceback" not in done[case].stderr
