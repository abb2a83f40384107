"""``gnomon reproduce RUN``: a script run re-run from its recorded commit (and diff) in a real
git repository, a pipeline run from its recorded definition, both compared metric by metric;
runs that cannot be reproduced are refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import gnomon
from gnomon.automation.reproduce import compare_metrics, environment_differences
from gnomon.tracking.capture import RUN_TAGS_ENV
from tests.fixtures.cli import fails, invoke, ok, ok_json

TRAIN = """
import gnomon

LR = {lr}

with gnomon.start_run(name="train"):
    gnomon.log_param("lr", LR)
    gnomon.log_metric("loss", sum((i * LR) ** 2 for i in range(10)) / 3)
    gnomon.log_metric("acc", 1 - LR / 3)
"""

NOISY = """
import random, time
import gnomon

with gnomon.start_run(name="train"):
    gnomon.log_metric("loss", random.Random(time.time_ns()).random())
"""


def git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(gnomon_home: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    (folder / "train.py").write_text(TRAIN.format(lr=0.1))
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "train")
    return folder


def run_script(repo: Path, script: str = "train.py") -> gnomon.Run:
    """Run the script as a user would, and return the run it logged."""
    subprocess.run([sys.executable, script], cwd=repo, check=True, capture_output=True)
    return gnomon.Client().search_runs("default", order_by=["start_time DESC"]).items[0]


def test_a_deterministic_script_is_reproduced_from_its_commit(repo: Path) -> None:
    original = run_script(repo)
    out = ok("reproduce", original.id)
    assert "reproduced: every metric within rtol=1e-06, atol=0" in out
    assert "loss" in out and "acc" in out and "✗" not in out
    client = gnomon.Client()
    new = client.search_runs("default", f"tags.gnomon.reproduces = '{original.id}'").items
    assert len(new) == 1 and new[0].metrics == original.metrics
    assert new[0].tags["gnomon.git.commit"] == original.tags["gnomon.git.commit"]
    assert new[0].tags["gnomon.source.entry_point"] == str(repo.resolve() / "train.py")
    assert new[0].status is gnomon.RunStatus.FINISHED and new[0].end_time is not None
    assert git(repo, "worktree", "list").count("\n") == 0  # the temporary worktree is gone


def test_the_recorded_commit_is_run_not_head_and_the_tree_is_untouched(repo: Path) -> None:
    original = run_script(repo)
    (repo / "train.py").write_text(TRAIN.format(lr=0.5))
    git(repo, "commit", "-qam", "faster")
    (repo / "notes.txt").write_text("uncommitted work of the user")
    found = ok_json("reproduce", original.id)
    assert found["passed"] is True and found["param_differences"] == []
    assert {c["metric"]: c["reproduced"] for c in found["comparisons"]} == original.metrics
    assert "LR = 0.5" in (repo / "train.py").read_text()
    assert (repo / "notes.txt").read_text() == "uncommitted work of the user"
    assert git(repo, "status", "--porcelain") == "?? notes.txt"


def test_a_dirty_run_is_rebuilt_from_its_recorded_diff(repo: Path) -> None:
    (repo / "train.py").write_text(TRAIN.format(lr=0.3))  # never committed
    original = run_script(repo)
    assert original.tags["gnomon.git.dirty"] == "true"
    (repo / "train.py").write_text(TRAIN.format(lr=0.7))
    found = ok_json("reproduce", original.id)
    assert found["passed"] is True
    assert gnomon.Client().get_run(found["new_run_id"]).params == {"lr": "0.3"}


def test_a_nondeterministic_script_fails_the_comparison(repo: Path) -> None:
    (repo / "noisy.py").write_text(NOISY)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "noise")
    original = run_script(repo, "noisy.py")
    result = invoke("reproduce", original.id, "--atol", "1e-9")
    assert result.exit_code == 1, result.output
    assert "not reproduced: 1 metric outside rtol=1e-06, atol=1e-09 or missing" in result.stdout
    assert "✗" in result.stdout


def test_environment_differences_are_warned_and_strict_env_refuses(repo: Path) -> None:
    original = run_script(repo)
    client = gnomon.Client()
    client.tracking.resume_run(client.scope, original.id)
    client.log_text(original.id, "pytest==0.0.1\ngone-package==1.0\n", "gnomon/requirements.txt")
    client.set_tag(original.id, "gnomon.python.version", "3.0.1")
    client.end_run(original.id)
    out = ok("reproduce", original.id)
    assert f"warning: environment: pytest 0.0.1 recorded, {pytest.__version__} here" in out
    assert "warning: environment: Python 3.0.1 recorded" in out
    assert "more environment differences" in out  # every other package here: bounded
    assert out.count("warning: environment:") == 20  # the first 20, then a count
    assert "reproduced: every metric" in out  # warned, not failed
    refused = fails("reproduce", original.id, "--strict-env")
    assert "differs from run" in refused and "--strict-env" in refused


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({}, "records no entry point"),
        ({"gnomon.source.entry_point": "/x/train.py"}, "records no git commit"),
        ({"gnomon.source.entry_point": "<notebook>"}, "started from notebook code"),
        (
            {
                "gnomon.source.entry_point": "{root}/train.py",
                "gnomon.git.root": "{root}",
                "gnomon.git.commit": "{commit}",
                "gnomon.git.dirty": "true",
            },
            "ran on uncommitted changes and recorded no gnomon/git.diff",
        ),
        (
            {
                "gnomon.source.entry_point": "{root}/train.py",
                "gnomon.git.root": "{root}",
                "gnomon.git.commit": "0" * 40,
            },
            f"commit {'0' * 40} is not in the repository",
        ),
    ],
)
def test_what_cannot_be_reproduced_is_refused_in_one_line(
    repo: Path, tags: dict[str, str], message: str
) -> None:
    client = gnomon.Client()
    experiment = client.tracking.get_or_create_experiment(client.scope, "default")
    commit = git(repo, "rev-parse", "HEAD")
    filled = {k: v.format(root=repo.resolve(), commit=commit) for k, v in tags.items()}
    run = client.create_run(experiment.id, "train", tags=filled)
    client.end_run(run.id)
    assert message in fails("reproduce", run.id)


def test_unknown_and_running_runs_and_bad_tolerances_are_refused(repo: Path) -> None:
    assert "no run 'nope'" in fails("reproduce", "nope")
    client = gnomon.Client()
    experiment = client.tracking.get_or_create_experiment(client.scope, "default")
    running = client.create_run(experiment.id, "live")
    assert "still running" in fails("reproduce", running.id)
    assert "rtol and atol must be finite" in fails("reproduce", running.id, "--rtol", "-1")
    assert "timeout must be a positive" in fails("reproduce", running.id, "--timeout", "0")


def test_a_repo_too_long_to_be_a_path_is_not_found(repo: Path) -> None:
    original = run_script(repo)
    assert "no git repository at" in fails("reproduce", original.id, "--repo", "r" * 10_000)


def test_a_script_rerun_takes_no_tags_a_launcher_gave_this_process(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = run_script(repo)
    monkeypatch.setenv(RUN_TAGS_ENV, json.dumps({"gnomon.project.uri": "/elsewhere"}))
    found = ok_json("reproduce", original.id)
    assert "gnomon.project.uri" not in gnomon.Client().get_run(found["new_run_id"]).tags


PIPELINE = """
import gnomon


@gnomon.step
def square(n: int) -> int:
    return n * n


@gnomon.step
def total(a: int, b: int) -> int:
    return a + b


@gnomon.pipeline
def sums(n: int = 2):
    return total(square(n), square(n))
"""


def test_a_pipeline_run_is_reproduced_from_its_definition(
    gnomon_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"reproduce_pipeline_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(PIPELINE)
    monkeypatch.chdir(tmp_path)
    first = ok_json("pipeline", "run", f"{module}:sums", "-p", "n=3")
    by_tracking_run = ok_json("reproduce", first["run"]["tracking_run_id"])
    assert by_tracking_run["passed"] is True
    assert {(o["node"], o["ok"]) for o in by_tracking_run["outputs"]} >= {("total", True)}
    new = gnomon.Client().get_run(by_tracking_run["new_run_id"])
    assert new.tags["gnomon.reproduces"] == first["run"]["tracking_run_id"]
    assert new.params == {"n": "3"}
    out = ok("reproduce", first["run"]["id"])  # a pipeline run's own id works too
    assert "step outputs" in out and "reproduced:" in out

    # A new process, as the shell starts one: this one holds the steps it imported.
    (tmp_path / f"{module}.py").write_text(PIPELINE.replace("n * n", "n * n * 1"))
    command = "from gnomon.cli.app import main; main()"
    refused = subprocess.run(
        [sys.executable, "-c", command, "reproduce", first["run"]["id"]],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert "steps square, square-2 changed" in refused.stderr


def test_metric_comparison_and_environment_rules() -> None:
    compared = compare_metrics(
        {"a": 1.0, "b": 100.0, "c": float("nan"), "d": 1.0, "e": float("inf")},
        {"a": 1.0 + 1e-7, "b": 100.1, "c": float("nan"), "e": float("inf")},
        rtol=1e-6,
        atol=0.05,
    )
    assert [(c.metric, c.ok) for c in compared] == [
        ("a", True),
        ("b", False),  # 0.1 > 0.05 + 1e-4
        ("c", True),
        ("d", False),  # missing from the re-run
        ("e", True),
    ]
    assert compared[3].reproduced is None and compared[1].delta == pytest.approx(0.1)
    found = environment_differences(None, None)
    assert found == ["no Python version recorded", "no gnomon/requirements.txt recorded"]
