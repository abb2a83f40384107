"""Pipelines in remote mode: a real server with authentication records what a real client
process runs on its own machine (its steps in worker processes that reach the server with
their own login), keeps the outputs as bytes, answers the cache and lineage, and refuses
what an attacker sends with a 4xx, never a 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gnomon.auth.entities import Principal, Role
from gnomon.client.transport import Transport
from gnomon.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from gnomon.pipelines.entities import NewPipelineRun, StepRun
from gnomon.pipelines.http import HttpPipelineClient
from gnomon.pipelines.objects import ObjectsAddress, digest_of
from tests.fixtures.server import LiveServer, add_tenant, serve, server_settings

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "password-123"
UPLOAD_LIMIT = 2 * 2**20  # max_artifact_bytes of the server below

# Runs in a process of its own, so its worker processes start with its environment.
SCRIPT = """
import json
import gnomon
from tests.integration.pipelines import remote_steps as steps

first = gnomon.run_pipeline(steps.remote, {"n": 5}, parallelism=2)
second = gnomon.run_pipeline(steps.remote, {"n": 5}, parallelism=2)
print(json.dumps({
    "first": first.run.id,
    "second": second.run.id,
    "first_statuses": {n: s.status for n, s in first.steps.items()},
    "second_statuses": {n: s.status for n, s in second.steps.items()},
    "sum": second.output("total"),
    "length": second.output("length"),
    "rows": len(second.output("scaled")),
}))
"""


@dataclass
class World:
    live: LiveServer
    tokens: dict[str, str]  # editor, viewer (of default), other (admin of ws-other)
    workspace_id: str  # default's
    runs: dict[str, Any]  # what the client process printed
    client_home: Path  # its GNOMON_HOME

    def call(self, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kw.pop("headers", {})}
        if who == "other":
            headers["X-Gnomon-Workspace"] = "ws-other"
        url = f"{self.live.url}/api/v1{path}"
        answer = httpx.request(method, url, headers=headers, timeout=60, **kw)
        assert answer.status_code < 500, answer.text
        return answer

    def client(self, who: str) -> HttpPipelineClient:
        workspace = "ws-other" if who == "other" else "default"
        transport = Transport(self.live.url, token=self.tokens[who], workspace=workspace)
        return HttpPipelineClient(transport)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("remote-pipelines")
    settings = server_settings(
        f"sqlite:///{home / 'gnomon.db'}", home, max_artifact_bytes=UPLOAD_LIMIT
    )
    with serve(settings) as live:
        auth = live.services.auth
        assert auth is not None
        auth.bootstrap_admin("admin-password-123")
        root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
        tokens = {}
        for name, role in (("editor", Role.EDITOR), ("viewer", Role.VIEWER)):
            auth.create_user(root, name, PASSWORD)
            auth.add_member(root, "default", name, role)
            tokens[name] = auth.login(name, PASSWORD)[0]
        tokens["other"] = add_tenant(live, "other").token
        client_home = home / "client"
        runs = _run_client(live.url, tokens["editor"], client_home)
        yield World(live, tokens, auth.get_workspace("default").id, runs, client_home)


def _run_client(url: str, token: str, home: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_")}
    env |= {
        "GNOMON_URI": url,
        "GNOMON_TOKEN": token,
        "GNOMON_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


# -- a run end to end ---------------------------------------------------------------------------


def test_a_remote_run_is_recorded_by_the_server_and_its_outputs_read_back(world: World) -> None:
    runs = world.runs
    assert set(runs["first_statuses"].values()) == {"succeeded"}
    assert runs["sum"] == pytest.approx(sum(i * 2.5 for i in range(5)))
    assert runs["length"] == 1_100_005
    assert runs["rows"] == 5
    assert not (world.client_home / "artifacts").exists()  # every output went to the server
    viewer = world.client("viewer")
    run = viewer.get_run(runs["first"])
    assert (run.status, run.pipeline, run.created_by) == ("succeeded", "remote", "editor")
    assert len(run.spec["steps"]) == 5  # the spec travelled whole
    assert {r.id for r in viewer.list_runs("remote")} == {runs["first"], runs["second"]}
    steps = {s.node: s for s in viewer.steps(runs["first"])}
    assert set(steps) == {"numbers", "scaled", "total", "padding", "length"}
    assert all(s.tracking_run_id for s in steps.values())  # nested runs in tracking
    assert steps["scaled"].outputs()["output"].kind == "numpy"


def test_outputs_are_kept_as_bytes_where_embedded_runs_keep_them(world: World) -> None:
    step = {s.node: s for s in world.client("viewer").steps(world.runs["first"])}["length"]
    output = step.outputs()["output"]
    # The server's artifact root holds it under the key LocalObjects reads.
    local = ObjectsAddress(world.live.settings.artifact_root, world.workspace_id).open()
    assert local.get(output.digest) == b"1100005"
    served = world.call("viewer", "GET", f"/pipeline-objects/{output.digest}")
    assert served.status_code == 200 and served.content == b"1100005"
    assert served.headers["content-type"] == "application/octet-stream"


def test_a_second_run_is_fully_cached(world: World) -> None:
    statuses = world.runs["second_statuses"]
    assert set(statuses.values()) == {"cached"}, statuses
    viewer = world.client("viewer")
    first = {s.node: s for s in viewer.steps(world.runs["first"])}
    again = {s.node: s for s in viewer.steps(world.runs["second"])}
    assert {n: s.cached_from for n, s in again.items()} == {n: s.id for n, s in first.items()}
    keys = [s.cache_key for s in first.values() if s.cache_key]
    assert set(viewer.cached(keys)) == set(keys)


def test_lineage_is_answered_over_http(world: World) -> None:
    viewer = world.client("viewer")
    steps = {s.node: s for s in viewer.steps(world.runs["first"])}
    graph = viewer.lineage(f"step:{steps['total'].id}", "upstream", 10)
    ids = {node.id for node in graph.nodes}
    assert {f"step:{steps[n].id}" for n in ("numbers", "scaled", "total")} <= ids
    assert f"pipeline-run:{world.runs['first']}" in ids
    array = steps["scaled"].outputs()["output"].digest
    assert (f"artifact:{array}", f"step:{steps['total'].id}") in graph.edges
    assert (f"step:{steps['scaled'].id}", f"artifact:{array}") in graph.edges
    down = viewer.lineage(f"artifact:{array}", "downstream", 1)
    assert {n.label for n in down.nodes if n.kind == "step"} == {"total"}
    with pytest.raises(InvalidInput, match="depth"):
        world.client("viewer").lineage(f"step:{steps['scaled'].id}", "both", 0)


# -- what is refused ----------------------------------------------------------------------------


def _new_run(world: World) -> str:
    new = NewPipelineRun("attacked", "m:f", {"nodes": []}, {}, "local")
    return world.client("editor").start_run(new).id


def _step(run_id: str, node: str = "a") -> StepRun:
    return StepRun("s" + os.urandom(8).hex(), run_id, node, "a", "succeeded", None, 1, 1, 2)


def test_a_viewer_reads_but_cannot_write(world: World) -> None:
    run_id = _new_run(world)
    viewer = world.client("viewer")
    assert viewer.get_run(run_id).status == "running"
    with pytest.raises(PermissionDenied):
        viewer.start_run(NewPipelineRun("p", "m:f", {}, {}, "local"))
    with pytest.raises(PermissionDenied):
        viewer.record_steps(run_id, [_step(run_id)])
    with pytest.raises(PermissionDenied):
        viewer.finish_run(run_id, "succeeded")
    data = b"a viewer's object"
    put = world.call("viewer", "PUT", f"/pipeline-objects/{digest_of(data)}", content=data)
    assert put.status_code == 403


def test_another_workspace_sees_nothing(world: World) -> None:
    run_id = _new_run(world)
    step = _step(run_id)
    world.client("editor").record_steps(run_id, [step])
    other = world.client("other")
    for call in (
        lambda: other.get_run(run_id),
        lambda: other.steps(run_id),
        lambda: other.record_steps(run_id, [_step(run_id, "b")]),
        lambda: other.finish_run(run_id, "failed"),
        lambda: other.lineage(f"step:{step.id}"),
        lambda: other.lineage(f"pipeline-run:{run_id}"),
    ):
        with pytest.raises(NotFound):
            call()
    assert other.list_runs() == []
    digest = {s.node: s for s in world.client("viewer").steps(world.runs["first"])}["length"]
    theirs = digest.outputs()["output"]
    assert world.call("other", "GET", f"/pipeline-objects/{theirs.digest}").status_code == 404
    ask = {"objects": [{"digest": theirs.digest, "size": theirs.size}]}
    missing = world.call("other", "POST", "/pipeline-objects/missing", json=ask)
    assert missing.json() == {"missing": [theirs.digest]}
    assert (
        other.cached(
            [s.cache_key for s in world.client("viewer").steps(world.runs["first"]) if s.cache_key]
        )
        == {}
    )


def test_unknown_and_finished_runs(world: World) -> None:
    editor = world.client("editor")
    with pytest.raises(NotFound, match="no pipeline run"):
        editor.get_run("0" * 32)
    with pytest.raises(NotFound):
        editor.record_steps("0" * 32, [_step("0" * 32)])
    run_id = _new_run(world)
    editor.record_steps(run_id, [_step(run_id)])
    assert editor.finish_run(run_id, "succeeded").status == "succeeded"
    with pytest.raises(Conflict, match="already succeeded"):
        editor.record_steps(run_id, [_step(run_id, "late")])
    with pytest.raises(Conflict):
        editor.finish_run(run_id, "failed")
    assert [s.node for s in editor.steps(run_id)] == ["a"]


def test_an_object_is_stored_only_under_its_own_digest(world: World) -> None:
    data, other = b"the real content", b"something else"
    digest = digest_of(data)
    wrong = world.call("editor", "PUT", f"/pipeline-objects/{digest}", content=other)
    assert wrong.status_code == 422 and "nothing was stored" in wrong.json()["error"]["message"]
    assert world.call("editor", "GET", f"/pipeline-objects/{digest}").status_code == 404
    for bad in ("xyz", "A" * 32, "0" * 31, "../" + "0" * 29):
        put = world.call("editor", "PUT", f"/pipeline-objects/{bad}", content=data)
        assert put.status_code in (404, 405, 422), bad  # "../" is another path, not an object
        if "/" not in bad:
            assert put.status_code == 422
            assert world.call("editor", "GET", f"/pipeline-objects/{bad}").status_code == 422
    right = world.call("editor", "PUT", f"/pipeline-objects/{digest}", content=data)
    assert right.status_code == 204
    assert world.call("viewer", "GET", f"/pipeline-objects/{digest}").content == data
    ask = {"objects": [{"digest": digest, "size": len(data)}, {"digest": digest, "size": 1}]}
    missing = world.call("viewer", "POST", "/pipeline-objects/missing", json=ask).json()
    assert missing == {"missing": [digest]}  # stored, but not with that size


def test_an_oversize_object_is_refused_before_it_is_stored(world: World) -> None:
    data = b"x" * (UPLOAD_LIMIT + 1)
    digest = digest_of(data)
    declared = world.call("editor", "PUT", f"/pipeline-objects/{digest}", content=data)
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while it streams
        for start in range(0, len(data), 256 * 1024):
            yield data[start : start + 256 * 1024]

    streamed = world.call("editor", "PUT", f"/pipeline-objects/{digest}", content=chunks())
    assert streamed.status_code == 413
    assert world.call("editor", "GET", f"/pipeline-objects/{digest}").status_code == 404


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/pipeline-runs", b"{not json", 400),
        ("/pipeline-runs", b'{"pipeline": "p"}', 422),
        (
            "/pipeline-runs",
            b'{"pipeline": "p\\u0000", "function": "m:f", "spec": {},'
            b' "params": {}, "executor": "local"}',
            422,
        ),
        (
            "/pipeline-runs",
            b'{"pipeline": "p", "function": "m:f", "spec": {}, "params": {},'
            b' "executor": "cluster"}',
            422,
        ),
        ("/pipeline-cache/lookup", b'{"keys": ["' + b"k" * 65 + b'"]}', 422),
        ("/pipeline-cache/lookup", b'{"keys": "abc"}', 422),
        ("/pipeline-objects/missing", b'{"objects": [{"digest": "zz", "size": 1}]}', 422),
        (
            "/pipeline-objects/missing",
            b'{"objects": [{"digest": "' + b"0" * 32 + b'", "size": -1}]}',
            422,
        ),
    ],
)
def test_malformed_bodies_are_client_errors(
    world: World, path: str, payload: bytes, status: int
) -> None:
    headers = {"Content-Type": "application/json"}
    answer = world.call("editor", "POST", path, content=payload, headers=headers)
    assert answer.status_code == status, answer.text


def test_malformed_steps_are_refused_whole(world: World) -> None:
    run_id = _new_run(world)
    good = {
        "id": "s1",
        "node": "a",
        "step": "a",
        "status": "succeeded",
        "cache_key": None,
        "attempts": 1,
        "started_ms": 1,
        "ended_ms": 2,
    }
    for bad in (
        {"status": "running"},
        {"attempts": "1"},
        {"attempts": 2**40},
        {"ended_ms": 2**63},
        {"artifacts": [{"name": "o", "direction": "out", "digest": "no", "kind": "json"}]},
        {"params": {"k": "\ud800"}},
    ):
        body = {"steps": [good, {**good, "id": "s2", "node": "b", **bad}]}
        sent = json.dumps(body).encode()  # ASCII escapes: a lone surrogate travels as \\ud800
        answer = world.call(
            "editor",
            "POST",
            f"/pipeline-runs/{run_id}/steps",
            content=sent,
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 422, (bad, answer.text)
    too_many = {"steps": [{**good, "id": f"s{i}", "node": f"n{i}"} for i in range(5_001)]}
    answer = world.call("editor", "POST", f"/pipeline-runs/{run_id}/steps", json=too_many)
    assert answer.status_code == 422
    assert world.client("editor").steps(run_id) == []
