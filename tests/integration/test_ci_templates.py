"""examples/ci/: the GitHub Actions workflow and the GitLab CI pipeline, their gnomon steps run
in order against a live server with a CI token, as a runner would run them (see
tests/fixtures/ci_steps.py). A good push validates, trains, evaluates against the champion,
registers and starts a canary; bad data stops at validation and a worse model at
evaluation, with nothing registered; the token is never printed. Both files are valid
against their provider's schema."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pandas as pd
import pytest

from tests.fixtures import ci_steps
from tests.fixtures.ci_steps import Ran
from tests.fixtures.server import LiveServer, add_tenant

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ci"
GITHUB = EXAMPLES / "github" / "train-and-deploy.yml"
GITLAB = EXAMPLES / "gitlab" / ".gitlab-ci.yml"
SCHEMAS = ROOT / "tests" / "fixtures" / "schemas"
SECRETS = ("GNOMON_URI", "GNOMON_TOKEN", "GNOMON_WORKSPACE")
GITHUB_STEPS = ["gnomon: validate the data", "gnomon: train",
                "gnomon: evaluate against the champion", "gnomon: register",
                "gnomon: roll out"]  # fmt: skip
GITLAB_JOBS = ["gnomon:validate", "gnomon:train", "gnomon:evaluate", "gnomon:register",
               "gnomon:rollout"]  # fmt: skip


@dataclass
class Target:
    """The server and workspace CI works in, and the CI's API token (an editor's, bound to
    the workspace, as the README asks for)."""

    live: LiveServer
    workspace: str
    token: str

    def secrets(self) -> dict[str, str]:
        return dict(zip(SECRETS, (self.live.url, self.token, self.workspace), strict=True))

    def get(self, path: str) -> Any:
        with self._http() as http:
            answer = http.get(path)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def versions(self) -> list[int]:
        return sorted(v["version"] for v in self.get("/models/churn/versions")["items"])

    def rollouts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get("/rollouts?deployment=churn-api")
        return found

    def end_rollouts(self) -> None:
        """What a worker or a person does before the next run can start one."""
        if any(r["state"] not in ("promoted", "rolled_back", "aborted") for r in self.rollouts()):
            with self._http() as http:
                answer = http.post("/rollouts/deployment/churn-api/abort", json={"reason": "next"})
            assert answer.status_code == 200, answer.text

    def _http(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}", "X-Gnomon-Workspace": self.workspace}
        return httpx.Client(base_url=f"{self.live.url}/api/v1", headers=headers)


@pytest.fixture(scope="module")
def target(auth_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Target:
    """A workspace of its own with a CI token, bootstrapped by bootstrap.sh as the README
    says: the dataset's schema, churn/1 @production, churn-api serving it. The tests share
    it, as CI runs do, and compare what they find with what was there before."""
    tenant = add_tenant(auth_server, uuid.uuid4().hex[:8], prefix="ci-")
    auth = auth_server.services.auth
    assert auth is not None
    token, _ = auth.create_token(
        auth.authenticate(tenant.token), "ci", workspace=tenant.workspace, role="editor"
    )
    found = Target(auth_server, tenant.workspace, token)
    repo = _checkout(tmp_path_factory.mktemp("bootstrap"))
    env = {**_runner("bootstrap", repo), **found.secrets()}
    done = subprocess.run(
        ["bash", "bootstrap.sh"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bootstrapped: churn/1 (@production) serves churn-api" in done.stdout
    assert token not in done.stdout + done.stderr
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return _checkout(tmp_path)


@pytest.fixture
def idle(target: Target) -> Iterator[Target]:
    target.end_rollouts()
    yield target


def test_github_workflow_registers_the_candidate_and_starts_a_canary(
    idle: Target, repo: Path
) -> None:
    before = idle.versions()
    ran = _github(idle, repo)
    _exited(ran, [(name, 0) for name in GITHUB_STEPS])
    _never_shows_the_token(idle, ran)
    _registered_and_rolling_out(idle, repo, before)


def test_gitlab_pipeline_registers_the_candidate_and_starts_a_canary(
    idle: Target, repo: Path
) -> None:
    before = idle.versions()
    ran = _gitlab(idle, repo)
    _exited(ran, [(name, 0) for name in GITLAB_JOBS])
    _never_shows_the_token(idle, ran)
    _registered_and_rolling_out(idle, repo, before)


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_bad_data_stops_at_validation(target: Target, repo: Path, provider: str) -> None:
    frame = pd.read_csv(repo / "data" / "churn.csv")
    frame.loc[:4, "age"] = -5  # out of range
    frame.loc[5:9, "plan"] = "enterprise"  # a category the schema has never seen
    _commit(repo, frame, "bad data")
    before = (target.versions(), target.get("/datasets/churn-training/versions"))
    rollouts = len(target.rollouts())

    ran = _github(target, repo) if provider == "github" else _gitlab(target, repo)

    _exited(ran, [(ran[0].step.name, 3)])  # the validate step, and nothing after it
    assert "out_of_range" in ran[0].output and "unseen_category" in ran[0].output
    assert (target.versions(), target.get("/datasets/churn-training/versions")) == before
    assert len(target.rollouts()) == rollouts
    assert not (repo / ".gnomon-ci").exists()


def test_a_worse_model_stops_at_evaluation(target: Target, repo: Path) -> None:
    """The training rows' labels shuffled: the data still fits its schema, the model
    trained on it is no better than chance on the holdout rows, where the champion is."""
    frame = pd.read_csv(repo / "data" / "churn.csv")
    training = frame.index % 5 != 0  # train.py's split
    shuffled = frame.loc[training, "churned"].sample(frac=1.0, random_state=3).to_numpy()
    frame.loc[training, "churned"] = shuffled
    _commit(repo, frame, "labels broken")
    before = target.versions()

    ran = _github(target, repo)

    _exited(ran, [(GITHUB_STEPS[0], 0), (GITHUB_STEPS[1], 0), (GITHUB_STEPS[2], 1)])
    said = ran[2].output
    assert "FAIL  f1" in said and "FAIL  roc_auc" in said and "ok    accuracy" not in said
    assert "models:/churn@production: failed" in said
    assert target.versions() == before
    run = target.get(f"/runs/{_read(repo, 'run_id')}")
    assert run["tags"]["gnomon.evaluation.verdict"] == "failed"


@pytest.mark.parametrize(("path", "schema"), [(GITHUB, "github-workflows.json"),
                                              (GITLAB, "gitlab-ci.json")])  # fmt: skip
def test_the_templates_are_valid_for_their_provider(path: Path, schema: str) -> None:
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / schema).read_text()))
    template = ci_steps.load(path)
    assert [e.message for e in validator.iter_errors(template)] == []
    misspelt = json.loads(json.dumps(template))
    (misspelt["jobs"]["train-and-deploy"] if path == GITHUB else misspelt)["stagez"] = 1
    assert list(validator.iter_errors(misspelt))  # the schema does reject what CI would


def test_only_the_gnomon_steps_see_the_secrets() -> None:
    """Secrets reach the steps that talk to the server through env: alone (never the
    install step, never a script's text, where GitHub would paste them into the command);
    GitLab's are the project's variables, named in no script line."""
    workflow = ci_steps.load(GITHUB)
    for job in workflow["jobs"].values():
        assert "secrets." not in json.dumps(job.get("env", {}))
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step["name"]
            named = str(step.get("name", "")).startswith(ci_steps.MARK)
            assert ("secrets." in json.dumps(step.get("env", {}))) == named, step["name"]
    assert "secrets." not in json.dumps(workflow.get("env", {}))
    pipeline = ci_steps.load(GITLAB)
    lines = [line for job in pipeline.values() if isinstance(job, dict)
             for key in ("script", "before_script") for line in job.get(key, [])]  # fmt: skip
    assert lines and not [line for line in lines if "GNOMON_TOKEN" in line]


def _github(target: Target, repo: Path) -> list[Ran]:
    steps = ci_steps.github_steps(ci_steps.load(GITHUB), target.secrets(), {})
    return ci_steps.run(steps, repo, _runner("github", repo))


def _gitlab(target: Target, repo: Path) -> list[Ran]:
    runner = _runner("gitlab", repo)
    steps = ci_steps.gitlab_jobs(ci_steps.load(GITLAB), {**runner, **target.secrets()})
    return ci_steps.run(steps, repo, runner, fresh_jobs=True)


def _exited(ran: list[Ran], expected: list[tuple[str, int]]) -> None:
    """Which steps ran and how each exited; on a surprise, what the last one printed."""
    assert [(r.step.name, r.returncode) for r in ran] == expected, ran[-1].output


def _registered_and_rolling_out(target: Target, repo: Path, before: list[int]) -> None:
    new = before[-1] + 1
    assert target.versions() == [*before, new]
    run_id = _read(repo, "run_id")
    version = target.get(f"/models/churn/versions/{new}")
    assert version["run_id"] == run_id
    assert version["description"].startswith("built by CI from acme/churn@")
    run = target.get(f"/runs/{run_id}")
    assert run["tags"]["gnomon.evaluation.verdict"] == "passed"
    assert run["tags"]["gnomon.evaluation.baseline"] == "models:/churn@production"
    inputs = target.get(f"/runs/{run_id}/inputs")
    data_ref = _read(repo, "data_ref")  # @1 unless another test's data came in between
    assert data_ref.startswith("churn-training@")
    assert [(i["ref"], i["context"]) for i in inputs] == [(data_ref, "training")]
    rollout = target.get("/rollouts/deployment/churn-api")
    assert (rollout["model"], rollout["candidate_version"]) == ("churn", new)
    assert (rollout["state"], rollout["risk"]["level"]) == ("running", "medium")
    assert rollout["plan"]["strategy"] == "canary"


def _never_shows_the_token(target: Target, ran: list[Ran]) -> None:
    assert ran and not [r.step.name for r in ran if target.token in r.output]
    assert all(r.step.env.get("GNOMON_TOKEN") == target.token for r in ran)  # yet it had it


def _runner(provider: str, repo: Path) -> dict[str, str]:
    """The environment a runner gives every step, besides the template's own."""
    sha = _git(repo, "rev-parse", "HEAD")
    base = {"PATH": ci_steps.runner_path(), "HOME": str(repo.parent / "home"), "CI": "true"}
    if provider == "github":
        return {**base, "GITHUB_ACTIONS": "true", "GITHUB_SHA": sha,
                "GITHUB_REPOSITORY": "acme/churn", "GITHUB_REF": "refs/heads/main",
                "GITHUB_WORKSPACE": str(repo), "RUNNER_TEMP": str(repo.parent)}  # fmt: skip
    return {**base, "GITLAB_CI": "true", "CI_COMMIT_SHA": sha, "CI_COMMIT_BRANCH": "main",
            "CI_DEFAULT_BRANCH": "main", "CI_PROJECT_PATH": "acme/churn",
            "CI_PROJECT_DIR": str(repo), "CI_PIPELINE_SOURCE": "push"}  # fmt: skip


def _checkout(parent: Path) -> Path:
    """examples/ci as the root of a repository, committed, as actions/checkout leaves it."""
    repo = parent / "repo"
    shutil.copytree(EXAMPLES, repo, ignore=shutil.ignore_patterns("__pycache__", ".gnomon-ci"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "the churn model")
    return repo


def _commit(repo: Path, frame: pd.DataFrame, message: str) -> None:
    frame.to_csv(repo / "data" / "churn.csv", index=False)
    _git(repo, "commit", "-qam", message)


def _git(repo: Path, *args: str) -> str:
    who = ("-c", "user.name=ci", "-c", "user.email=ci@example.com")
    done = subprocess.run(["git", *who, *args], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _read(repo: Path, name: str) -> str:
    return (repo / ".gnomon-ci" / name).read_text().strip()
