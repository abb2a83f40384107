"""``gnomon run PATH_OR_URL@REF -e ENTRY -p k=v``: a real git repository with a gnomon.yaml,
run from a local folder and a file:// URL at a ref; params typed, recorded and passed as
arguments (never through a shell); ``gnomon reproduce`` runs such a run again with them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import gnomon
from tests.fixtures.cli import fails, invoke, ok, ok_json

TRAIN = """
import json, sys
import gnomon

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
with gnomon.start_run(name="train"):
    gnomon.log_params({{k.lstrip("-"): v for k, v in args.items()}})
    gnomon.log_metric("loss", float(args["--lr"]) * int(args["--epochs"]) + {bias})
print(json.dumps(sys.argv[1:]))
"""

PROJECT = """
name: churn
environment: current
entry_points:
  main:
    command: python train.py --lr {lr} --epochs {epochs} --note {note}
    parameters:
      lr: {type: float, default: 0.1}
      epochs: {type: int, default: 3}
      note: {type: str, default: plain}
  fail:
    command: python -c "import sys; print('boom'); sys.exit(3)"
"""


def git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(gnomon_home: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "churn"
    folder.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    commit(folder, {"train.py": TRAIN.format(bias=0), "gnomon.yaml": PROJECT}, "v1")
    git(folder, "tag", "v1")
    return folder


def runs(**tags: str) -> list[gnomon.Run]:
    try:
        found = gnomon.Client().search_runs("default", max_results=1000).items
    except gnomon.NotFound:  # nothing ran: not even the experiment was made
        return []
    return [r for r in found if all(r.tags.get(k) == v for k, v in tags.items())]


def test_a_local_repository_runs_at_a_ref_with_params_recorded(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    commit(repo, {"train.py": TRAIN.format(bias=100)}, "v2")  # HEAD moves on; v1 is run
    ran = ok_json("run", f"{repo}@v1", "-p", "lr=0.5", "-p", "epochs=+04")
    assert ran["commit"] == first and ran["ref"] == "v1" and ran["entry_point"] == "main"
    assert ran["params"] == {"lr": "0.5", "epochs": "4", "note": "plain"}  # typed, defaulted
    (run,) = [gnomon.Client().get_run(i) for i in ran["run_ids"]]
    assert run.metrics["loss"] == 2.0  # v1's script: no bias
    assert run.params == {"lr": "0.5", "epochs": "4", "note": "plain"}  # its arguments
    assert run.tags["gnomon.project.uri"] == str(repo.resolve())
    assert run.tags["gnomon.project.ref"] == "v1"
    assert run.tags["gnomon.project.commit"] == first == run.tags["gnomon.git.commit"]
    assert run.tags["gnomon.project.entry_point"] == "main"
    assert run.tags["gnomon.project.name"] == "churn"
    assert json.loads(run.tags["gnomon.project.params"]) == ran["params"]
    assert (
        git(repo, "status", "--porcelain") == "" and git(repo, "branch", "--show-current") == "main"
    )


def test_a_file_url_of_a_bare_repository_runs_its_default_branch_or_a_commit(
    repo: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    old = git(repo, "rev-parse", "HEAD")
    commit(repo, {"train.py": TRAIN.format(bias=100)}, "v2")
    git(repo, "push", "-q", str(bare), "main")
    ran = ok_json("run", bare.as_uri())
    assert ran["ref"] == "HEAD" and ran["commit"] == git(repo, "rev-parse", "HEAD")
    assert gnomon.Client().get_run(ran["run_ids"][0]).metrics["loss"] == pytest.approx(100.3)
    ran = ok_json("run", f"{bare.as_uri()}@{old[:10]}", "-p", "lr=1")
    assert ran["commit"] == old and ran["uri"] == bare.as_uri()
    assert gnomon.Client().get_run(ran["run_ids"][0]).metrics["loss"] == 3.0
    assert fails("run", f"{bare.as_uri()}@no-such-branch").endswith(
        f"no branch, tag or commit 'no-such-branch' in {bare.as_uri()!r}"
    )


def test_hostile_values_are_passed_literally_never_to_a_shell(repo: Path, tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    hostile = f"; touch {canary} && rm -rf / $(touch {canary}) `touch {canary}` | x > {canary}"
    ran = ok_json("run", str(repo), "-p", f"note={hostile}")
    assert ran["command"][-2:] == ["--note", hostile]  # one argument, as given
    assert gnomon.Client().get_run(ran["run_ids"][0]).params["note"] == hostile
    assert not canary.exists()


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (["-p", "lrr=0.1"], "entry point 'main' declares no parameter 'lrr' (it declares: "),
        (["-p", "epochs=3.5"], "parameter 'epochs' must be a whole number, not '3.5'"),
        (["-p", "lr=fast"], "parameter 'lr' must be a finite number, not 'fast'"),
        (["-p", "lr=nan"], "parameter 'lr' must be a finite number, not 'nan'"),
        (["-p", "lr"], "-p takes NAME=VALUE, not 'lr'"),
        (["-p", "lr=1", "-p", "lr=2"], "parameter 'lr' is given twice"),
        (["-e", "train"], "project 'churn' has no entry point 'train' (it has: fail, main)"),
    ],
)
def test_undeclared_and_ill_typed_params_are_refused_before_anything_runs(
    repo: Path, params: list[str], error: str
) -> None:
    assert error in fails("run", str(repo), *params)
    assert runs() == []


def test_required_path_and_dataset_params(repo: Path, tmp_path: Path) -> None:
    project = """
name: churn
entry_points:
  main:
    command: python train.py --lr 1 --epochs 1 --out {out} --table {table}
    parameters:
      out: path
      table: {type: dataset}
"""
    commit(repo, {"gnomon.yaml": project}, "typed")
    assert "needs parameter 'out' (path): pass -p out=VALUE" in fails("run", str(repo))
    latest = ["-p", "out=x", "-p", "table=sales"]
    assert "must be a dataset version NAME@V" in fails("run", str(repo), *latest)
    missing = ["-p", "out=x", "-p", "table=sales@1"]
    assert "parameter 'table': no dataset version 'sales@1'" in fails("run", str(repo), *missing)
    (tmp_path / "sales.csv").write_text("a\n1\n")
    gnomon.Client().datasets.add(tmp_path / "sales.csv", "sales")  # type: ignore[attr-defined]
    ran = ok_json("run", str(repo), *missing)
    assert ran["params"]["out"] == str(Path.cwd() / "x")  # relative to where gnomon ran
    assert ran["params"]["table"] == "sales@1"


def test_a_failing_entry_point_fails_the_command_with_its_output(repo: Path) -> None:
    result = invoke("run", str(repo), "-e", "fail")
    assert result.exit_code == 1
    assert "boom" in result.stderr  # its output, as it ran
    assert "error: entry point 'fail' exited with status 3" in result.stderr
    assert "timeout must be a positive" in fails("run", str(repo), "--timeout", "-1")


def test_uncommitted_changes_are_not_run_and_say_so(repo: Path) -> None:
    (repo / "train.py").write_text(TRAIN.format(bias=1000))
    out = ok("run", str(repo))
    assert "warning: " in out and "has uncommitted changes: they were not run" in out
    (run,) = runs()
    assert run.metrics["loss"] == pytest.approx(0.3)
    assert "+ 1000" in (repo / "train.py").read_text()  # the user's change, left as it was


def test_a_run_started_by_gnomon_run_is_reproduced_with_its_params(repo: Path) -> None:
    ran = ok_json("run", f"{repo}@main", "-p", "lr=0.25", "-p", "note=$(echo hi)")
    commit(repo, {"train.py": TRAIN.format(bias=100)}, "v2")  # later commits do not matter
    found = ok_json("reproduce", ran["run_ids"][0])
    assert found["passed"] is True and found["param_differences"] == []
    new = gnomon.Client().get_run(found["new_run_id"])
    assert new.params == {"lr": "0.25", "epochs": "3", "note": "$(echo hi)"}
    assert new.metrics == {"loss": 0.75}
    assert new.tags["gnomon.reproduces"] == ran["run_ids"][0]
    assert new.tags["gnomon.project.commit"] == ran["commit"]


def test_a_moved_repository_is_found_with_repo(repo: Path, tmp_path: Path) -> None:
    ran = ok_json("run", str(repo), "-p", "epochs=5")
    moved = repo.rename(tmp_path / "moved")
    error = fails("reproduce", ran["run_ids"][0])
    assert f"no folder {str(repo.resolve())!r}" in error and "pass --repo" in error
    found = ok_json("reproduce", ran["run_ids"][0], "--repo", str(moved))
    assert found["passed"] is True
    assert gnomon.Client().get_run(found["new_run_id"]).params["epochs"] == "5"


def test_requirements_are_checked_against_this_python(repo: Path) -> None:
    project = PROJECT.replace("environment: current", "requirements: requirements.txt")
    commit(repo, {"gnomon.yaml": project, "requirements.txt": "pyyaml>=1\n"}, "met")
    assert ok_json("run", str(repo))["run_ids"]
    commit(repo, {"requirements.txt": "pyyaml<1\nno-such-package-xyz==1\n"}, "unmet")
    error = fails("run", str(repo))
    assert "this Python does not meet requirements.txt of project 'churn'" in error
    assert "no-such-package-xyz is not installed" in error and "<1 is required" in error


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("- a list", "gnomon.yaml must hold a mapping"),
        ("name: x\nentry_points: {}", "entry_points must be a mapping of at least one"),
        ("name: x\nentry_point: {}", "gnomon.yaml: entry_point is not a field"),
        ("entry_points: {m: {command: a}}", "gnomon.yaml: name must be text, not nothing"),
        ("name: x\nentry_points: {m: {}}", "entry_points.m.command must be text"),
        ("name: x\nentry_points: {m: {command: 'a \"b'}}", "entry_points.m.command must be words"),
        (
            "name: x\nentry_points: {m: {command: 'a {b}'}}",
            "entry_points.m.command uses {b}, which is not one of its parameters",
        ),
        (
            "name: x\nentry_points: {m: {command: a, parameters: {b: int}}}",
            "entry_points.m.parameters.b is not used in the command",
        ),
        (
            "name: x\nentry_points: {m: {command: 'a {b}', parameters: {b: double}}}",
            "entry_points.m.parameters.b.type must be one of int, float, str, path, dataset",
        ),
        (
            "name: x\nentry_points: {m: {command: 'a {b}', parameters: {b: {type: int, "
            "default: 0.5}}}}",
            "entry_points.m.parameters.b.default: parameter 'b' must be a whole number",
        ),
        (
            "name: x\nentry_points: {m: {command: 'a {b}', parameters: {b: {typ: int}}}}",
            "entry_points.m.parameters.b.typ is not a field",
        ),
        ("name: x\nenvironment: conda\nentry_points: {m: {command: a}}", "environment must be"),
        ("name: x\nrequirements: ../r.txt\nentry_points: {m: {command: a}}", "requirements must"),
        ("name: [x", "gnomon.yaml is not valid YAML"),
    ],
)
def test_a_project_file_with_an_error_names_the_field(repo: Path, text: str, field: str) -> None:
    commit(repo, {"gnomon.yaml": text}, "broken")
    error = fails("run", str(repo), "-e", "m")
    assert field in error, error


def test_sources_that_are_not_repositories_are_refused(repo: Path, tmp_path: Path) -> None:
    assert "no folder" in fails("run", str(tmp_path / "nowhere"))
    (tmp_path / "plain").mkdir()
    assert "is not in a git repository" in fails("run", str(tmp_path / "plain"))
    assert "no folder" in fails("run", f"ext::sh -c touch% {tmp_path}/x")  # never given to git
    assert not (tmp_path / "x").exists()
    assert "is not a git URL gnomon clones" in fails("run", "ftp://example.com/repo.git")
    assert "is not a git ref" in fails("run", f"{repo}@--upload-pack=touch")
    git(repo, "rm", "-q", "gnomon.yaml")
    git(repo, "commit", "-qm", "no project")
    assert "no gnomon.yaml in the project" in fails("run", str(repo))
