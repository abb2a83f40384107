"""The local executor end to end: real worker processes, a real SQLite store, real files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import gnomon
from gnomon.errors import UserCodeError
from gnomon.pipelines.fluent import pipelines_api
from gnomon.pipelines.runner import run_pipeline
from tests.integration.pipelines import core_steps as steps


@pytest.fixture
def home(gnomon_home: Path) -> Path:
    return gnomon_home


def test_parallel_branches_run_in_parallel_processes(home: Path, tmp_path: Path) -> None:
    result = gnomon.run_pipeline(steps.parallel_pair, {"folder": str(tmp_path)}, parallelism=2)
    joined = result.output("join")
    pids = {item.split(":")[1] for item in joined}
    assert [item.split(":")[0] for item in joined] == ["a", "b"]
    assert len(pids) == 2  # two worker processes, each waiting for the other


def test_outputs_are_typed_artifacts_and_a_second_run_is_all_cached(
    home: Path, tmp_path: Path
) -> None:
    params = {"n": 50, "folder": str(tmp_path)}
    first = gnomon.run_pipeline(steps.tables, params)
    assert first.output("column_sum") == pytest.approx(sum(i * 2.5 for i in range(50)))
    assert first.output("read_file") == "hello"
    assert first.output("frame").shape == (50, 2)
    assert first.steps["frame"].outputs()["output"].kind == "parquet/pandas"
    again = gnomon.run_pipeline(steps.tables, params)
    statuses = {node: step.status for node, step in again.steps.items()}
    assert statuses.pop("stamp") == "succeeded"  # cache=False: always runs
    assert set(statuses.values()) == {"cached"}
    assert again.steps["frame"].cached_from == first.steps["frame"].id
    assert again.output("stamp") != first.output("stamp")
    # --no-cache runs everything again
    fresh = gnomon.run_pipeline(steps.tables, params, cache=False)
    assert {s.status for s in fresh.steps.values()} == {"succeeded"}


def test_each_part_of_the_cache_key_misses_when_it_changes(home: Path, tmp_path: Path) -> None:
    folder = str(tmp_path)
    gnomon.run_pipeline(steps.resumable, {"marker": folder + "/absent"})
    # a parameter: only the steps reading it (and what their output changes) run again
    changed = gnomon.run_pipeline(steps.resumable, {"marker": folder + "/absent", "start": 2})
    assert changed.steps["emit"].status == "succeeded"
    assert changed.steps["emit-2"].status == "cached"  # emit(5): same input as before
    assert changed.steps["add-2"].status == "succeeded"  # an input's content changed
    # the step's code: a new code hash misses although every input is the same
    spec = steps.resumable.build()
    edited = replace(
        spec,
        nodes=tuple(
            replace(n, step=replace(n.step, code_hash="edited")) if n.id == "add-2" else n
            for n in spec.nodes
        ),
    )
    again = run_pipeline(edited, pipelines_api(), {"marker": folder + "/absent", "start": 2})
    assert again.steps["add-2"].status == "succeeded"
    assert again.steps["emit"].status == "cached"


def test_a_failed_branch_does_not_hide_the_others_and_resume_keeps_what_succeeded(
    home: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    marker.touch()
    with pytest.raises(UserCodeError, match="step 'fails_if' failed: ValueError: marker") as err:
        gnomon.run_pipeline(steps.resumable, {"marker": str(marker)})
    run_id = err.value.details["run_id"]
    api = pipelines_api()
    recorded = {s.node: s for s in api.steps(run_id)}
    assert recorded["fails_if"].status == "failed"
    assert recorded["fails_if"].error["user_code"] is True
    assert recorded["add"].status == "skipped"
    assert recorded["add-2"].status == "succeeded"  # the other branch finished
    assert api.get_run(run_id).status == "failed"
    marker.unlink()
    resumed = gnomon.run_pipeline(steps.resumable, resume=run_id, cache=False)
    statuses = {node: s.status for node, s in resumed.steps.items()}
    assert statuses == {
        "emit": "cached",
        "emit-2": "cached",
        "add-2": "cached",
        "fails_if": "succeeded",
        "add": "succeeded",
    }
    assert resumed.run.resumed_from == run_id
    assert resumed.output("add") == 11


def test_retries_back_off_until_the_step_succeeds(home: Path, tmp_path: Path) -> None:
    result = gnomon.run_pipeline(steps.retrying, {"folder": str(tmp_path), "failures": 2})
    assert result.output("flaky") == 3
    assert result.steps["flaky"].attempts == 3
    with pytest.raises(UserCodeError, match="attempt 6 fails"):
        gnomon.run_pipeline(steps.retrying, {"folder": str(tmp_path), "failures": 9})


def test_a_timeout_and_a_dead_worker_fail_their_steps_only(home: Path) -> None:
    result = gnomon.run_pipeline(steps.troubled, raise_on_failure=False)
    assert result.status == "failed"
    assert result.output("add") == 3
    sleeper = result.steps["sleeper"]
    assert sleeper.status == "failed"
    assert sleeper.error["timed_out"] is True
    assert "exit code 3" in result.steps["crash"].error["message"]
    assert result.run.error is not None and "sleeper" in result.run.error


def test_steps_are_nested_tracking_runs_with_their_logs(home: Path, tmp_path: Path) -> None:
    result = gnomon.run_pipeline(steps.tables, {"n": 5, "folder": str(tmp_path)})
    client = gnomon.get_client()
    parent = client.get_run(result.run.tracking_run_id)
    assert parent.status.value == "FINISHED"
    children = client.search_runs(
        [parent.experiment_id], filter=f"tags.`gnomon.pipeline.run` = '{result.run.id}'"
    )
    assert {run.name for run in children} == set(result.steps)
    chatty = next(run for run in children if run.name == "chatty")
    assert chatty.params["word"] == "hello"
    assert "duration_s" in chatty.metrics
    digest = result.steps["chatty"].logs_digest
    logs = pipelines_api().objects().open().get(digest).decode()
    assert "printed hello" in logs and "logged hello" in logs


def test_a_fully_cached_run_on_ray_never_starts_ray(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("ray")
    params = {"marker": str(tmp_path / "absent")}
    gnomon.run_pipeline(steps.resumable, params)
    # Any start of Ray would now try this address (and fail): a cached run must not need it.
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    again = gnomon.run_pipeline(steps.resumable, params, executor="ray")
    assert {s.status for s in again.steps.values()} == {"cached"}
    assert again.run.executor == "ray"


def test_a_list_of_step_outputs_fans_in_to_one_step(home: Path) -> None:
    first = gnomon.run_pipeline(steps.fan_in)
    assert first.output("total") == sum(i * i for i in range(8))
    joined = first.steps["total"]
    inputs = [a for a in joined.artifacts if a.direction == "in"]
    assert [a.name for a in inputs] == [f"values[{i}]" for i in range(8)]
    assert [a.preview for a in inputs] == [str(i * i) for i in range(8)]
    again = gnomon.run_pipeline(steps.fan_in)
    assert {s.status for s in again.steps.values()} == {"cached"}


def test_a_run_shows_itself_in_a_notebook_escaped(home: Path, tmp_path: Path) -> None:
    marker = str(tmp_path / "<script>alert(1)</script>")
    result = gnomon.run_pipeline(steps.resumable, {"marker": marker})
    page = result._repr_html_()
    assert "Pipeline resumable" in page and "fails_if" in page and "add-2" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "5 succeeded" in page


UNGUARDED = """
import sys
import gnomon
import early_steps

@gnomon.step
def double(x: int) -> int:
    return 2 * x

@gnomon.pipeline
def here(x: int = 3):
    return double(x)

# no `if __name__ == "__main__"` guard: workers must not run this file again
print(gnomon.run_pipeline(early_steps.late).output("triple"))  # starts the fork server
sys.path.append({folder!r})  # a folder added after the fork server started
import late_steps
print(gnomon.run_pipeline(late_steps.late).output("triple"))
print(gnomon.run_pipeline(here).output("double"))  # steps of this script: forked
"""
LATE = """
import gnomon

@gnomon.step
def triple(x: int) -> int:
    return 3 * x

@gnomon.pipeline
def late(x: int = 4):
    return triple(x)
"""


def test_an_unguarded_script_runs_its_own_steps_and_a_late_modules(
    home: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    folder = tmp_path / "late"
    folder.mkdir()
    (folder / "late_steps.py").write_text(LATE)
    (tmp_path / "early_steps.py").write_text(LATE.replace("x: int = 4", "x: int = 1"))
    script = tmp_path / "train.py"
    script.write_text(UNGUARDED.format(folder=str(folder)))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["3", "12", "6"]
