"""The closed loop under attack, against a real server: a viewer of one workspace reaching for
another's rollouts, policies and predictions; the rollout metrics asked for without a global
administrator's token; malformed ids and names on every new page and route; a rollout left
extending its hold for weeks; a damaged records file; callers whose input every version
refuses; and a recorded run whose entry point leads out of its commit. ``# Found:`` marks the
holes this review found, each fixed since."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import gnomon
from gnomon._types import Scope
from gnomon.auth.entities import Principal, Role
from gnomon.automation import sql as automation_sql
from gnomon.automation.plans import plan_for
from gnomon.automation.policies import PolicyService
from gnomon.automation.reproduce import reproduce
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.spec import RolloutSpec
from gnomon.automation.tables import decisions
from gnomon.deployments.service import DeploymentService
from gnomon.errors import InvalidInput
from gnomon.predictions.entities import PredictionRecord
from gnomon.predictions.records import RecordWriter
from gnomon.predictions.storage import predictions_store
from gnomon.registry.entities import NewVersion
from gnomon.ui.pages_rollouts import DECISIONS_SHOWN
from tests.fixtures.server import ADMIN_PASSWORD, LiveServer, serve, server_settings

PASSWORD = "loop-password-123"
TEAM = {"workspace": "team"}
MODEL, WEB = "churn", "web"
MANY = 20_000  # extensions: a canary short of answers, its 60 s hold extended for two weeks
START = 1_780_000_000_000  # a fixed time, so records land in a known day's partitions
DAY = "2026-05-28"


@dataclass
class Loop:
    live: LiveServer
    team: Scope
    other: Scope
    rollout_id: str  # team's, at canary 10% and extended MANY times
    secret_rollout_id: str  # other's
    tokens: dict[str, str]

    def rollouts(self) -> RolloutService:
        """The worker's rollout service over the server's database: it smoke-tests (here,
        every candidate passes); the server's own never does."""
        served = self.live.services.get(RolloutService)
        worker = RolloutService(served.store, served.deployments, served.registry, served.settings)
        worker.smoke = lambda scope, rollout: None
        return worker

    def api(self, user: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "X-Gnomon-Workspace": "team"}
        return httpx.Client(base_url=f"{self.live.url}/api/v1", headers=headers)

    def records(self, scope: Scope) -> Any:
        return predictions_store(self.live.settings.artifact_root, scope.workspace)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    home = tmp_path_factory.mktemp("loop-attacks")
    with serve(server_settings(f"sqlite:///{home / 'gnomon.db'}", home)) as live:
        auth = live.services.auth
        assert auth is not None
        auth.bootstrap_admin(ADMIN_PASSWORD)
        root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
        scopes = {}
        for workspace, user, role in (
            ("team", "viewer", Role.VIEWER),
            ("other", "boss", Role.ADMIN),
        ):
            created = auth.create_workspace(root, workspace)
            auth.create_user(root, user, PASSWORD)
            auth.add_member(root, workspace, user, role)
            scopes[workspace] = Scope(created.id, "admin")
        tokens = {user: auth.login(user, PASSWORD)[0] for user in ("viewer", "boss")}
        tokens["admin"] = auth.login("admin", ADMIN_PASSWORD)[0]
        found = Loop(live, scopes["team"], scopes["other"], "", "", tokens)
        found.rollout_id = _extended_canary(found)
        found.secret_rollout_id = _secret(found)
        yield found


def _models(loop: Loop, scope: Scope, model: str, deployment: str) -> None:
    registry = loop.live.services.registry
    assert registry is not None
    for number in (1, 2):
        registry.create_version(scope, model, NewVersion(f"import:{number}", f"/m/{number}", "e"))
    loop.live.services.get(DeploymentService).create(scope, deployment, f"{model}/1")


def _extended_canary(loop: Loop) -> str:
    """A canary at 10% whose deployment got no traffic for two weeks: a decision a hold."""
    _models(loop, loop.team, MODEL, WEB)
    worker = loop.rollouts()
    plan = plan_for("medium", RolloutSpec(canary_steps=(10,), hold_s=60, min_requests=20))
    rollout = worker.start(loop.team, WEB, MODEL, 2, plan, {"level": "medium"}, now=START)
    stepped = worker.step(loop.team, rollout, None, START + 1000)  # smoke test passed
    assert stepped.current is not None and stepped.current.kind == "canary"
    reason = "canary 10%: only 0 of 20 answers in 60 s; the hold is extended"
    rows = [
        {
            "rollout_id": rollout.id, "seq": 2 + i, "at_ms": START + 61_000 + 60_000 * i,
            "stage": 1, "action": "extend", "reason": reason, "figures": "{}",
        }
        for i in range(MANY)
    ]  # fmt: skip
    with worker.store.db.write() as conn:
        conn.execute(decisions.insert(), rows)
    return rollout.id


def _secret(loop: Loop) -> str:
    """Workspace ``other``'s rollout, policy and prediction record."""
    _models(loop, loop.other, "secret-model", "secret-web")
    plan = plan_for("low", RolloutSpec())
    rollout = loop.rollouts().start(loop.other, "secret-web", "secret-model", 2, plan, {})
    spec = {"model": "secret-model", "deployment": "secret-web", "gate": {"target": "label"}}
    loop.live.services.get(PolicyService).create(
        loop.other, "secret-policy", "x:y", spec, cron="0 * * * *", import_pipeline=False
    )
    _record(loop.records(loop.other), "secret-web", "secret-model", ["secret-request"])
    return rollout.id


def _record(
    store: Any, deployment: str, model: str, ids: list[str], *, role: str = "primary",
    version: int = 1, failed: Callable[[int], bool] = lambda i: False, at: int = START,
) -> None:  # fmt: skip
    """Records as the model server writes them; a failed answer is recorded without one."""
    writer = RecordWriter(store)
    writer.submit(
        [
            PredictionRecord(
                rid, at + i, deployment, model, version, {"x": i},
                None if failed(i) else 1, 2.0, role,
            )
            for i, rid in enumerate(ids)
        ]
    )  # fmt: skip
    writer.close()


@contextmanager
def _viewer(loop: Loop) -> Iterator[httpx.Client]:
    """The viewer of ``team``, logged in to the UI as a browser is."""
    with httpx.Client(base_url=loop.live.url) as client:
        body = {"username": "viewer", "password": PASSWORD, "next": "/"}
        assert client.post("/login", data=body).status_code == 303
        yield client


# --- reading a long rollout ------------------------------------------------------------------


def test_a_rollout_of_many_decisions_is_read_in_bounded_parts(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found: both pages read every decision a rollout ever recorded (a canary short of
    # answers records one each hold, for as long as it runs): 100,000 took 1.5 s and hundreds
    # of MB per rollout, and the list read that for each of its 100 rollouts.
    read: list[int] = []
    decision = automation_sql._decision
    monkeypatch.setattr(automation_sql, "_decision", lambda row: read.append(1) or decision(row))
    total = MANY + 2  # the start, the smoke test's advance and the extensions
    with _viewer(loop) as client:
        page = client.get(f"/rollouts/{loop.rollout_id}", params=TEAM)
        shown = len(read)
        listing = client.get("/rollouts", params=TEAM)
    assert page.status_code == 200 and listing.status_code == 200
    assert shown <= DECISIONS_SHOWN + 10, shown
    assert len(read) - shown <= 10, len(read) - shown
    seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', page.text)]
    assert seqs == list(range(total - DECISIONS_SHOWN, total))  # the newest, oldest first
    assert f"{total - DECISIONS_SHOWN} older decisions left out" in page.text
    chart = re.search(r'id="chart-share">(.*?)</script>', page.text, re.S)
    assert chart is not None
    assert json.loads(chart[1])["series"][0]["values"] == [0, 0, 10, 10]  # every share, still
    row = listing.text[listing.text.index(f'data-rollout="{loop.rollout_id}"') :]
    assert f'<td class="num">{total}</td>' in row[: row.index("</tr>")]


# --- a damaged records file ------------------------------------------------------------------


def test_a_damaged_records_file_is_a_503_naming_it_not_a_500(loop: Loop) -> None:
    # Found: a Parquet file that cannot be read in the workspace's prediction records (a
    # disk's damage, a copy cut short) failed the lineage route with a 500.
    store = loop.records(loop.team)
    _record(store, "broken-web", MODEL, ["req-damaged"])
    [hour] = [i.path for i in store.list(f"records/deployment=broken-web/date={DAY}")]
    store.put_bytes(b"PAR1 not parquet", f"{hour.rstrip('/')}/zz-damaged.parquet")
    try:
        with loop.api("viewer") as api:
            answer = api.get("/lineage/prediction/req-damaged")
            narrowed = api.get(
                "/lineage/prediction/req-damaged", params={"deployment": "broken-web"}
            )
    finally:
        store.delete(f"{hour.rstrip('/')}/zz-damaged.parquet")
    for failed in (answer, narrowed):
        assert failed.status_code == 503, failed.text
        error = failed.json()["error"]
        assert error["code"] == "unavailable"
        assert "prediction records" in error["message"] and "zz-damaged.parquet" in error["message"]
        assert str(loop.live.settings.artifact_root) not in failed.text  # no server paths
    with loop.api("viewer") as api:
        assert api.get("/lineage/prediction/req-damaged").status_code == 200


# --- callers' bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate_fails", "ends"), [(0.05, "promoted"), (0.10, "rolled_back")], ids=["same", "more"]
)
def test_failures_every_version_has_do_not_roll_a_canary_back(
    loop: Loop, candidate_fails: float, ends: str
) -> None:
    # Found: the model server records a request whose input the model refuses as a failure
    # of whichever arm answered it, and a canary was rolled back on its own error rate: 5% of
    # callers sending values every version refuses (or one hostile caller) rolled back every
    # candidate, however sound. The candidate is judged on failing more than the primary.
    deployment, model = f"shop-{candidate_fails}", f"shop-model-{candidate_fails}"
    _models(loop, loop.team, model, deployment)
    worker = loop.rollouts()
    plan = plan_for("medium", RolloutSpec(canary_steps=(10,), hold_s=60, min_requests=40))
    at = START + 3_600_000
    rollout = worker.start(loop.team, deployment, model, 2, plan, {"level": "medium"}, now=at)
    rollout = worker.step(loop.team, rollout, None, at + 1000)  # smoke test passed: canary 10%
    store = loop.records(loop.team)
    primary = [f"p{candidate_fails}-{i}" for i in range(400)]
    canary = [f"c{candidate_fails}-{i}" for i in range(40)]
    _record(store, deployment, model, primary, failed=lambda i: i % 20 == 0, at=at + 2000)
    every = round(1 / candidate_fails)
    _record(
        store, deployment, model, canary, role="canary", version=2,
        failed=lambda i: i % every == 0, at=at + 2000,
    )  # fmt: skip
    stepped = worker.step(loop.team, rollout, None, at + 62_000)
    said = stepped.decisions[-1].reason
    assert stepped.state == ends, said
    if ends == "rolled_back":
        assert "4 of 40 answers failed (10.0%" in said and "the primary's 5.0%" in said


# --- a recorded run's entry point ------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def test_reproduce_runs_nothing_outside_the_recorded_commit(
    gnomon_home: Path, tmp_path: Path
) -> None:
    # Found: a recorded entry point that the commit holds as a symbolic link (to an absolute
    # path) ran whatever file is there now, outside the checked-out commit.
    outside, marker = tmp_path / "outside.py", tmp_path / "ran.txt"
    outside.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    repo = tmp_path / "project"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "train.py").symlink_to(outside)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "train")
    client = gnomon.Client()
    experiment = client.tracking.create_experiment(client.scope, "hostile")
    run = client.create_run(experiment.id, "train")
    tags = {
        "gnomon.source.entry_point": str(repo / "train.py"),
        "gnomon.git.root": str(repo),
        "gnomon.git.commit": _git(repo, "rev-parse", "HEAD"),
        "gnomon.git.dirty": "false",
    }
    client.log_batch(run.id, tags=tags)
    client.end_run(run.id)
    with pytest.raises(InvalidInput) as refused:
        reproduce(client, run.id, timeout=30)
    assert "symbolic link" in refused.value.message and "train.py" in refused.value.message
    assert not marker.exists()
    assert _git(repo, "worktree", "list").count("\n") == 0  # the temporary worktree is gone


# --- what held ---------------------------------------------------------------------------------


def test_another_workspaces_loop_stays_its_own(loop: Loop) -> None:
    with _viewer(loop) as client:
        for path in (f"/rollouts/{loop.secret_rollout_id}", "/policies/secret-policy"):
            for workspace in ("team", "other"):
                answer = client.get(path, params={"workspace": workspace})
                assert answer.status_code in (403, 404), (path, workspace)
                assert "secret-model" not in answer.text and "secret-web" not in answer.text
        for path in ("/rollouts", "/policies"):
            answer = client.get(path, params=TEAM)
            assert answer.status_code == 200 and "secret" not in answer.text
    with loop.api("viewer") as api:
        missing = api.get("/lineage/prediction/secret-request")
        assert missing.status_code == 404 and "secret-model" not in missing.text
    with httpx.Client(base_url=f"{loop.live.url}/api/v1") as http:
        for user, status in (("viewer", 403), ("boss", 403), (None, 401), ("admin", 200)):
            headers = {} if user is None else {"Authorization": f"Bearer {loop.tokens[user]}"}
            metrics = http.get("/metrics/rollouts", headers=headers)
            assert metrics.status_code == status, user
            assert ("secret-web" in metrics.text) is (user == "admin")


def test_the_api_server_runs_no_model_code_and_steps_no_rollout(loop: Loop) -> None:
    services = loop.live.services
    assert services.get(RolloutService).smoke is None  # set by the worker only
    assert services.get(PolicyService).follow is None
    with loop.api("admin") as api:
        paths = api.get(f"{loop.live.url}/openapi.json").json()["paths"]
    assert "/api/v1/metrics/rollouts" in paths
    stepping = ("step", "due", "smoke", "follow", "reproduce", "tick")
    loop_paths = [p for p in paths if "rollout" in p or "polic" in p]
    assert [p for p in loop_paths if any(word in p for word in stepping)] == []


ODD = [
    "%00", "%ED%A0%80", "%2e%2e", "..%2F..%2Fetc", "x" * 300, "%FF%FE", "'%20OR%201=1--",
    "a%0Ab", "%E2%80%A8", "$id", "*", "%5B", "%25",
]  # fmt: skip


def test_malformed_ids_and_names_are_never_a_500(loop: Loop) -> None:
    with _viewer(loop) as client, loop.api("viewer") as api:
        for odd in ODD:
            for path in (
                f"/rollouts/{odd}?workspace=team",
                f"/policies/{odd}?workspace=team",
                f"/rollouts?deployment={odd}&workspace=team",
                f"/policies?q={odd}&workspace=team",
            ):
                answer = client.get(path)
                assert answer.status_code in (200, 400, 404, 422), (path, answer.status_code)
                assert "Traceback" not in answer.text
            for params in ({}, {"deployment": odd}, {"since_ms": odd}):
                answer = api.get(f"/lineage/prediction/{odd}", params=params)
                assert answer.status_code in (400, 404, 422), (odd, params, answer.status_code)
            answer = api.get(f"/lineage/prediction/{odd}", params={"deployment": ".."})
            assert answer.status_code in (400, 404, 422)
