"""The fluent SDK: active runs, buffered logging, statuses, environment capture."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import gnomon
from gnomon.errors import Conflict, InvalidInput, NotFound
from gnomon.tracking import fluent
from gnomon.tracking.entities import RunStatus


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.get_client()


def test_readme_flow(client: gnomon.Client) -> None:
    gnomon.set_experiment("churn")
    with gnomon.start_run(name="rf-baseline", tags={"team": "growth"}) as run:
        gnomon.log_params({"n_estimators": 100, "max_depth": 8})
        for step in range(100):
            gnomon.log_metric("loss", 1.0 / (step + 1), step=step)
        gnomon.log_metrics({"acc": 0.91, "f1": 0.88})
        gnomon.set_tag("stage", "baseline")
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FINISHED
    assert stored.params == {"n_estimators": "100", "max_depth": "8"}
    assert stored.metrics == {"loss": 0.01, "acc": 0.91, "f1": 0.88}
    assert stored.tags["team"] == "growth" and stored.tags["stage"] == "baseline"
    assert [m.step for m in client.get_metric_history(run.id, "loss")] == list(range(100))


def test_logging_is_buffered_until_flush(
    client: gnomon.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = gnomon.start_run()
    gnomon.log_metric("m", 1.0)
    # The background writer flushes every 0.5 s: right after the call nothing is written yet.
    assert client.get_run(run.id).metrics == {}
    gnomon.flush()
    assert client.get_run(run.id).metrics == {"m": 1.0}
    gnomon.end_run()


def test_exception_marks_run_failed(client: gnomon.Client) -> None:
    with pytest.raises(ZeroDivisionError), gnomon.start_run() as run:
        gnomon.log_metric("before", 1.0)
        _ = 1 / 0
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FAILED
    assert stored.metrics == {"before": 1.0}  # what was logged before the error is kept
    assert gnomon.active_run() is None


def test_keyboard_interrupt_marks_run_killed(client: gnomon.Client) -> None:
    with pytest.raises(KeyboardInterrupt), gnomon.start_run() as run:
        raise KeyboardInterrupt
    assert client.get_run(run.id).status is RunStatus.KILLED


def test_nested_runs(client: gnomon.Client) -> None:
    with gnomon.start_run(name="parent") as parent:
        with pytest.raises(Conflict, match="already active"):
            gnomon.start_run()
        with gnomon.start_run(name="child", nested=True) as child:
            gnomon.log_metric("depth", 2)
        gnomon.log_metric("depth", 1)
    assert client.get_run(child.id).parent_run_id == parent.id
    assert client.get_run(child.id).metrics == {"depth": 2.0}
    assert client.get_run(parent.id).metrics == {"depth": 1.0}


def test_resume_by_id(client: gnomon.Client) -> None:
    with gnomon.start_run() as run:
        gnomon.log_param("lr", 0.1)
    with gnomon.start_run(run_id=run.id):
        gnomon.log_metric("late", 5.0)
        with pytest.raises(Conflict, match=r"'lr'.*'0.1'.*'0.2'"):
            gnomon.log_param("lr", 0.2)
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FINISHED and stored.metrics == {"late": 5.0}
    with pytest.raises(NotFound):
        gnomon.start_run(run_id="does-not-exist")


def test_param_change_fails_at_the_call(client: gnomon.Client) -> None:
    with gnomon.start_run() as run:
        gnomon.log_param("depth", 8)
        gnomon.log_param("depth", 8)
        with pytest.raises(Conflict, match=r"'8'.*'9'"):
            gnomon.log_param("depth", 9)
    assert client.get_run(run.id).params == {"depth": "8"}


def test_bad_input_fails_at_the_call(client: gnomon.Client) -> None:
    with gnomon.start_run():
        with pytest.raises(InvalidInput, match="'acc'"):
            gnomon.log_metric("acc", "high")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="step"):
            gnomon.log_metric("acc", 1.0, step=1.5)  # type: ignore[arg-type]


def test_background_error_surfaces_on_flush(client: gnomon.Client) -> None:
    run = gnomon.start_run()
    client.end_run(run.id)  # ended behind the fluent API's back
    gnomon.log_metric("m", 1.0)
    with pytest.raises(Conflict, match="FINISHED"):
        gnomon.flush()
    fluent._active.set(())


def test_logging_without_a_run_starts_one(client: gnomon.Client) -> None:
    gnomon.log_metric("auto", 1.0)
    run = gnomon.active_run()
    assert run is not None
    gnomon.end_run()
    assert client.get_run(run.id).metrics == {"auto": 1.0}
    assert client.get_experiment(run.experiment_id).name == "default"


TRAIN = """
import gnomon
with gnomon.start_run() as run:
    pass
print(run.id)
"""


def test_environment_is_captured(client: gnomon.Client, tmp_path: Path) -> None:
    """The code version is the git state of the entry-point script's repository."""
    repo = tmp_path / "repo"
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "train.py").write_text(TRAIN)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    remote = "https://bob:s3cret@example.com/x.git"
    subprocess.run([*git, "remote", "add", "origin", remote], check=True)
    (repo / "train.py").write_text(TRAIN + "# tuned\n")  # dirty
    done = subprocess.run(
        [sys.executable, str(repo / "train.py")], capture_output=True, text=True, check=True
    )
    run_id = done.stdout.strip()
    tags = client.get_run(run_id).tags
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
    assert tags["gnomon.git.commit"] == head.stdout.strip()
    assert tags["gnomon.git.branch"] == "main"
    assert tags["gnomon.git.remote"] == "https://example.com/x.git"  # credentials stripped
    assert tags["gnomon.git.dirty"] == "true"
    assert tags["gnomon.source.entry_point"] == str((repo / "train.py").resolve())
    assert tags["gnomon.python.version"].count(".") == 2
    diff = client.download_artifacts(run_id, "gnomon/git.diff", tmp_path / "dl")
    assert "+# tuned" in diff.read_text()
    reqs = client.download_artifacts(run_id, "gnomon/requirements.txt", tmp_path / "dl")
    assert "pytest==" in reqs.read_text().lower()


def test_environment_capture_can_be_turned_off(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
    with gnomon.start_run() as run:
        pass
    assert not any(k.startswith("gnomon.") for k in gnomon.get_client().get_run(run.id).tags)


def test_ending_a_run_writes_its_last_values_and_its_end_in_one_transaction(
    client: gnomon.Client,
) -> None:
    from sqlalchemy import event

    with gnomon.start_run() as run:
        gnomon.log_param("lr", 0.1)
        for step in range(10):
            gnomon.log_metric("loss", 1.0 / (step + 1), step=step)
        writes: list[str] = []

        def count(*args: object) -> None:
            if str(args[2]).startswith("BEGIN IMMEDIATE"):
                writes.append(str(args[2]))

        engine = client.tracking.store.db.engine
        event.listen(engine, "before_cursor_execute", count)
    event.remove(engine, "before_cursor_execute", count)
    assert len(writes) == 1
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FINISHED and stored.params == {"lr": "0.1"}
    assert [m.value for m in client.get_metric_history(run.id, "loss")][-1] == 0.1


def test_a_run_ended_elsewhere_with_nothing_queued_ends_without_an_error(
    client: gnomon.Client,
) -> None:
    # Killed from the UI or another process, then left by the script with everything
    # written: end_run ends it as it always did (values still queued would fail, loudly).
    with gnomon.start_run() as run:
        gnomon.log_metric("loss", 0.5)
        gnomon.flush()
        client.end_run(run.id, RunStatus.KILLED)
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FINISHED and stored.metrics == {"loss": 0.5}


def test_only_a_client_for_runs_reads_the_environment_ahead(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    warmed = threading.Event()
    monkeypatch.setattr(fluent, "_warm_capture", warmed.set)
    from gnomon.pipelines.fluent import pipelines_api

    pipelines_api()  # a pipeline's process: its steps' runs record no environment
    assert not warmed.wait(0.2)
    fluent._reset()
    gnomon.get_client()
    assert warmed.wait(5)
