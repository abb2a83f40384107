"""Pipelines under attack: a live server with an editor and a viewer of ``default``, a tenant
of another workspace and anonymous callers, sending what a hostile client would. Every answer
is a 4xx naming the problem, never a 500; bad input writes nothing; no workspace sees another's
runs, steps, objects, cache or registry through pipelines; the CLI prints what others recorded
without letting it drive the terminal; a client refuses objects a server or store tampered with.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import event

from gnomon._types import Scope
from gnomon.auth.entities import Principal, Role
from gnomon.errors import NotFound
from gnomon.pipelines.api import PipelinesApi
from gnomon.pipelines.objects import LocalObjects, digest_of
from gnomon.pipelines.schedule_runs import run_tick
from gnomon.registry.entities import NewVersion
from tests.fixtures.cli import ok
from tests.fixtures.server import LiveServer, add_tenant, run_uvicorn, serve, server_settings

PASSWORD = "password-123"
BODY_LIMIT = 4 * 2**20  # max_body_bytes of the server below
UPLOAD_LIMIT = 2 * 2**20  # max_artifact_bytes
EVIL = "\x1b]0;pwned\x07\x1b[2J\x9b31m"  # retitle, clear the screen, 8-bit CSI


@dataclass
class World:
    live: LiveServer
    tokens: dict[str, str]  # editor, viewer (of default), other (admin of ws-other)
    scopes: dict[str, Scope]  # default, other: as the server's services see them

    def call(self, who: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        if who == "other":
            headers["X-Gnomon-Workspace"] = "ws-other"
        url = f"{self.live.url}/api/v1{path}"
        answer = httpx.request(method, url, headers=headers, timeout=60, **kw)
        assert answer.status_code < 500, answer.text
        assert "Traceback" not in answer.text
        return answer

    def start(self, who: str = "editor", pipeline: str = "attacked") -> str:
        sent = {"pipeline": pipeline, "function": "m:f", "spec": {}, "params": {}}
        answer = self.call(who, "POST", "/pipeline-runs", json={**sent, "executor": "local"})
        assert answer.status_code == 201, answer.text
        run_id: str = answer.json()["id"]
        return run_id

    def record(self, who: str, run_id: str, steps: list[dict[str, Any]]) -> httpx.Response:
        return self.call(who, "POST", f"/pipeline-runs/{run_id}/steps", json={"steps": steps})

    def steps(self, run_id: str) -> list[dict[str, Any]]:
        answer = self.call("viewer", "GET", f"/pipeline-runs/{run_id}/steps")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found

    def children(self, run_id: str) -> int:
        """Nested tracking runs under the pipeline run's tracking run."""
        run = self.call("viewer", "GET", f"/pipeline-runs/{run_id}").json()
        tracking = self.live.services.tracking
        parent = tracking.get_run(self.scopes["default"], run["tracking_run_id"])
        found = tracking.search_runs(
            self.scopes["default"],
            parent.experiment_id,
            filter=f"tags.`mlflow.parentRunId` = '{parent.id}'",
        )
        return len(found.items)


def step(node: str, **fields: Any) -> dict[str, Any]:
    base = {
        "id": os.urandom(16).hex(),
        "node": node,
        "step": node,
        "status": "succeeded",
        "cache_key": None,
        "attempts": 1,
        "started_ms": 1_000,
        "ended_ms": 2_000,
    }
    return {**base, **fields}


def artifact(name: str, direction: str, digest: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "direction": direction, "digest": digest, "kind": "json", **fields}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("pipeline-attacks")
    settings = server_settings(
        f"sqlite:///{home / 'gnomon.db'}",
        home,
        max_body_bytes=BODY_LIMIT,
        max_artifact_bytes=UPLOAD_LIMIT,
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
        other = add_tenant(live, "other")
        tokens["other"] = other.token
        default = Scope(auth.get_workspace("default").id, "editor")
        yield World(live, tokens, {"default": default, "other": other.scope})


# -- the edge: who may send what, and how much --------------------------------------------------


def _raw(world: World, head: str) -> tuple[int, float]:
    """Send only a request's head (a body is promised, never sent): its status, and seconds."""
    host, port = world.live.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.encode("latin-1"))
        answer = conn.recv(4096).decode("latin-1")
    return int(answer.split(" ", 2)[1]), time.monotonic() - started


def test_large_bodies_are_refused_before_they_are_read(world: World) -> None:
    digest = "0" * 32
    asked = [
        (None, "PUT", f"/pipeline-objects/{digest}", 10**12, 401),
        ("viewer", "PUT", f"/pipeline-objects/{digest}", 10**12, 403),
        ("other", "PUT", f"/pipeline-objects/{digest}", UPLOAD_LIMIT + 1, 413),
        ("editor", "PUT", f"/pipeline-objects/{digest}", UPLOAD_LIMIT + 1, 413),
        (None, "POST", "/pipeline-runs", 10**9, 401),
        ("viewer", "POST", "/pipeline-runs/x/steps", 10**9, 403),
        ("editor", "POST", "/pipeline-runs/x/steps", BODY_LIMIT + 1, 413),
        ("viewer", "POST", "/pipeline-cache/lookup", BODY_LIMIT + 1, 413),
    ]
    for who, method, path, length, status in asked:
        lines = [f"{method} /api/v1{path} HTTP/1.1", "Host: x", f"Content-Length: {length}"]
        if who is not None:
            lines.append(f"Authorization: Bearer {world.tokens[who]}")
        if who == "other":
            lines.append("X-Gnomon-Workspace: ws-other")
        found, seconds = _raw(world, "\r\n".join([*lines, "Content-Type: x", "", ""]))
        assert (found, seconds < 5) == (status, True), (who, method, path)


def test_deep_wide_and_odd_json_is_a_client_error(world: World) -> None:
    run = {"pipeline": "p", "function": "m:f", "spec": {}, "params": {}, "executor": "local"}
    deep = b'{"pipeline": "p", "function": "m:f", "spec": {}, "executor": "local", "params": {"a":'
    headers = {"Content-Type": "application/json"}
    for payload in (
        deep + b"[" * 200_000 + b"]" * 200_000 + b"}}",  # past any parser's recursion
        deep + b"[" * 40 + b"]" * 40 + b"}}",  # past MAX_JSON_DEPTH
    ):
        answer = world.call("editor", "POST", "/pipeline-runs", content=payload, headers=headers)
        assert answer.status_code in (400, 422), answer.text
    too_many = {**run, "params": {f"k{i}": i for i in range(10_001)}}
    assert world.call("editor", "POST", "/pipeline-runs", json=too_many).status_code == 422
    large = {**run, "params": {"k": "x" * 70_000}}  # over MAX_PARAMS_BYTES
    assert world.call("editor", "POST", "/pipeline-runs", json=large).status_code == 422
    for field, value in (
        ("pipeline", EVIL),
        ("pipeline", "."),
        ("pipeline", "x" * 10_000),
        ("function", "m:" + "f" * 2_000),
        ("trigger", "t" * 601),
        ("resumed_from", "r" * 33),
        ("executor", "os:system"),
    ):
        answer = world.call("editor", "POST", "/pipeline-runs", json={**run, field: value})
        assert answer.status_code == 422, (field, answer.text)
    huge_limit = world.call("viewer", "GET", "/pipeline-runs", params={"limit": 10**30})
    assert huge_limit.status_code == 422
    long_ref = world.call("viewer", "GET", "/lineage/step:" + "a" * 2_000)
    assert long_ref.status_code == 422


@pytest.mark.parametrize(
    "ref",
    [
        "model:m/99999999999999999999999",
        "model:m/-1",
        "model:m/٣",
        "model:/1",
        "dataset:d@0",
        "dataset:d@latest",
        "dataset:@1",
        "deployment:a/b",
        "run:" + "x" * 600,
        "artifact:../../etc/passwd",
        "pipeline-run:%2e%2e",
        "step:",
        "kind:name",
        ":",
    ],
)
def test_odd_lineage_refs_are_client_errors(world: World, ref: str) -> None:
    answer = world.call("viewer", "GET", f"/lineage/{ref}", params={"depth": 50})
    assert answer.status_code in (404, 422), answer.text


def test_a_refused_start_leaves_no_tracking_run(world: World) -> None:
    run = {"pipeline": "orphans", "function": "m:f", "spec": {}, "executor": "local"}
    answer = world.call("editor", "POST", "/pipeline-runs", json={**run, "params": {"a\x1b": 1}})
    assert answer.status_code == 422, answer.text
    tracking = world.live.services.tracking
    with pytest.raises(NotFound):  # checked before anything was written, the experiment too
        tracking.search_runs(world.scopes["default"], "pipeline:orphans")


# -- nothing half-written ----------------------------------------------------------------------


def test_one_bad_step_in_a_batch_of_a_hundred_writes_nothing(world: World) -> None:
    run_id = world.start()
    world.record("editor", run_id, [step("recorded")])
    assert world.children(run_id) == 1
    ok_steps = [step(f"n{i}") for i in range(100)]
    for bad in (
        {"node": "a\x1bb"},  # a control character in what becomes a tracking run's name
        {"node": " padded"},
        {"params": {"k": "x" * 70_000}},  # over MAX_PARAMS_BYTES
        {"error": {"message": "x" * 300_000}},  # over the bound of a step's error
        {"node": "recorded"},  # already recorded in this run
        {"node": "n3"},  # twice in the batch
        {"id": ok_steps[0]["id"]},  # one id twice
    ):
        batch = [*ok_steps[:57], {**step("bad"), **bad}, *ok_steps[57:]]
        answer = world.record("editor", run_id, batch)
        assert answer.status_code in (409, 422), (bad, answer.text)
        assert [s["node"] for s in world.steps(run_id)] == ["recorded"], bad
        assert world.children(run_id) == 1, bad  # no nested run in tracking either


def test_a_finished_run_cannot_be_appended_or_reopened(world: World) -> None:
    run_id = world.start()
    world.record("editor", run_id, [step("a")])
    finish = world.call("editor", "POST", f"/pipeline-runs/{run_id}/finish", json={})
    assert finish.status_code == 422
    done = {"status": "succeeded"}
    assert world.call("editor", "POST", f"/pipeline-runs/{run_id}/finish", json=done).is_success
    late = world.record("editor", run_id, [step("late"), step("later", status="skipped")])
    assert late.status_code == 409
    assert [s["node"] for s in world.steps(run_id)] == ["a"]
    assert world.children(run_id) == 1  # no nested run added to the finished one
    for status in ("failed", "running"):
        again = world.call(
            "editor", "POST", f"/pipeline-runs/{run_id}/finish", json={"status": status}
        )
        assert again.status_code in (409, 422), status
    # The same finish again (a retry whose first answer was lost) changes nothing.
    same = {"status": "succeeded", "error": "rewritten"}
    again = world.call("editor", "POST", f"/pipeline-runs/{run_id}/finish", json=same)
    assert again.status_code == 200 and again.json()["error"] is None
    assert world.call("viewer", "GET", f"/pipeline-runs/{run_id}").json()["status"] == "succeeded"


def test_a_batch_sent_twice_is_recorded_once(world: World) -> None:
    """A flaky network: the runner's batch reached the server, its answer did not, and the
    transport sent it again. The second is a no-op, not a 409 that fails the run."""
    run_id = world.start()
    batch = [step(f"n{i}") for i in range(10)]
    assert world.record("editor", run_id, batch).status_code == 204
    assert world.record("editor", run_id, batch).status_code == 204
    assert len(world.steps(run_id)) == 10 and world.children(run_id) == 10
    half = world.record("editor", run_id, [*batch[:5], step("new")])
    assert half.status_code == 409
    renamed = world.record("editor", run_id, [{**batch[0], "node": "renamed"}])
    assert renamed.status_code == 409
    elsewhere = world.start()
    assert world.record("editor", elsewhere, batch[:1]).status_code == 409  # ids are global
    assert world.steps(elsewhere) == [] and len(world.steps(run_id)) == 10


def test_server_fields_are_not_the_clients(world: World) -> None:
    theirs = world.start("other")
    their_tracking = world.call("other", "GET", f"/pipeline-runs/{theirs}").json()[
        "tracking_run_id"
    ]
    run_id = world.start()
    planted = step("skipped", status="skipped", tracking_run_id=their_tracking)
    ran = step("ran", tracking_run_id=their_tracking)
    assert world.record("editor", run_id, [planted, ran]).status_code == 204
    found = {s["node"]: s for s in world.steps(run_id)}
    assert found["skipped"]["tracking_run_id"] is None
    assert found["ran"]["tracking_run_id"] not in (None, their_tracking)


# -- workspaces --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def theirs(world: World) -> dict[str, str]:
    """What ws-other holds: a pipeline run with a step that wrote an object, a model version
    made by a tracking run, the step's cache key."""
    data = b'{"secret": 1}'
    digest = digest_of(data)
    put = world.call("other", "PUT", f"/pipeline-objects/{digest}", content=data)
    assert put.status_code == 204
    run_id = world.start("other", "secret-pipeline")
    secret = step(
        "secret-step",
        cache_key="c" * 64,
        artifacts=[artifact("output", "out", digest, size=len(data), preview="secret")],
    )
    assert world.record("other", run_id, [secret]).status_code == 204
    tracking = world.call("other", "GET", f"/pipeline-runs/{run_id}").json()["tracking_run_id"]
    registry = world.live.services.registry
    assert registry is not None
    new = NewVersion("import:secret", "/tmp/secret", "user-other", run_id=tracking)
    registry.create_version(world.scopes["other"], "secret-model", new)
    return {
        "run": run_id,
        "step": secret["id"],
        "digest": digest,
        "tracking": tracking,
        "key": "c" * 64,
    }


def test_another_workspaces_objects_are_not_found(world: World, theirs: dict[str, str]) -> None:
    for ref in (
        f"pipeline-run:{theirs['run']}",
        f"step:{theirs['step']}",
        f"artifact:{theirs['digest']}",
        f"run:{theirs['tracking']}",
        "model:secret-model/1",
        "dataset:secret@1",
        "deployment:secret",
    ):
        for direction in ("upstream", "downstream", "both"):
            answer = world.call("viewer", "GET", f"/lineage/{ref}", params={"direction": direction})
            assert answer.status_code == 404, (ref, answer.text)
            for theirs_only in ("secret-step", "secret-pipeline", "user-other", "/tmp/secret"):
                assert theirs_only not in answer.text
    assert world.call("viewer", "GET", f"/pipeline-objects/{theirs['digest']}").status_code == 404
    lookup = world.call("viewer", "POST", "/pipeline-cache/lookup", json={"keys": [theirs["key"]]})
    assert lookup.json() == {"steps": {}}
    recent = world.call(
        "viewer", "GET", "/pipeline-cache/recent", params={"pipeline": "secret-pipeline"}
    )
    assert recent.json() == {"steps": {}}
    listed = world.call("viewer", "GET", "/pipeline-runs", params={"pipeline": "secret-pipeline"})
    assert listed.json() == []
    resumed = {
        "pipeline": "secret-pipeline",
        "function": "m:f",
        "spec": {},
        "params": {},
        "executor": "local",
        "resumed_from": theirs["run"],
    }
    assert world.call("editor", "POST", "/pipeline-runs", json=resumed).status_code == 404


def test_planted_references_show_nothing_of_another_workspace(
    world: World, theirs: dict[str, str]
) -> None:
    """A step of ``default`` that names ws-other's objects (its digest, its model version, a
    step id it made up) leads lineage nowhere: no label, alias, status or run of theirs."""
    run_id = world.start()
    mine = step(
        "planted",
        cached_from=theirs["step"],
        artifacts=[
            artifact("in", "in", theirs["digest"]),
            artifact("their-model", "in", "4" * 32, link="model:secret-model/1"),
            artifact("their-data", "in", "5" * 32, link="dataset:secret@1"),
            artifact("model", "out", "1" * 32, link="model:secret-model/1"),
        ],
    )
    assert world.record("editor", run_id, [mine]).status_code == 204
    for ref in (f"step:{mine['id']}", f"artifact:{theirs['digest']}", "model:secret-model/1"):
        answer = world.call("viewer", "GET", f"/lineage/{ref}", params={"depth": 50})
        if ref.startswith("model:"):
            assert answer.status_code == 404  # a root must be the workspace's own
            continue
        assert answer.status_code == 200, (ref, answer.text)
        graph = answer.json()
        ids = {n["id"] for n in graph["nodes"]}
        assert f"step:{theirs['step']}" not in ids and f"run:{theirs['tracking']}" not in ids
        assert f"pipeline-run:{theirs['run']}" not in ids
        assert "secret-step" not in str(graph) and "/tmp/secret" not in str(graph)
    # Lineage walks through such a node (a version deleted since looks the same) to the rest.
    up = world.call(
        "viewer", "GET", f"/lineage/step:{mine['id']}", params={"direction": "upstream"}
    )
    assert {"model:secret-model/1", "dataset:secret@1", f"pipeline-run:{run_id}"} <= {
        n["id"] for n in up.json()["nodes"]
    }


@pytest.mark.parametrize(
    "link",
    [
        "model:no-version",
        "model:m/x",
        "model:/1",
        "dataset:no-version",
        "step:" + "0" * 32,
        "pipeline-run:" + "0" * 32,
        "run:" + "0" * 32,
        "deployment:d",
        "evil:thing",
        "model:m/1" + EVIL,
    ],
)
def test_a_link_must_name_a_dataset_or_model_version(world: World, link: str) -> None:
    run_id = world.start()
    bad = step("linked", artifacts=[artifact("o", "out", "2" * 32, link=link)])
    answer = world.record("editor", run_id, [bad])
    assert answer.status_code == 422, answer.text
    assert world.steps(run_id) == []


# -- how much work one request can make --------------------------------------------------------


def test_lineage_over_a_wide_fan_out_is_bounded(world: World) -> None:
    """One artifact read by 1,000 steps, each writing one read by the next layer, 50 deep:
    the walk stops at the node limit, in a bounded number of queries."""
    run_id = world.start(pipeline="fan-out")
    source = "a" * 32
    layer = [step("source", artifacts=[artifact("o", "out", source)])]
    for i in range(1_000):
        out = f"{i:032x}"
        layer.append(
            step(f"wide{i}", artifacts=[artifact("i", "in", source), artifact("o", "out", out)])
        )
    assert world.record("editor", run_id, layer).status_code == 204
    chain = [
        step(
            f"deep{d}",
            artifacts=[artifact("i", "in", f"{d:032x}"), artifact("o", "out", f"{d + 1:032x}")],
        )
        for d in range(50)
    ]
    assert world.record("editor", run_id, chain).status_code == 204
    engine = world.live.services.database.engine  # type: ignore[union-attr]
    queries = 0

    def count(*_: Any) -> None:
        nonlocal queries
        queries += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.monotonic()
        answer = world.call(
            "viewer",
            "GET",
            f"/lineage/artifact:{source}",
            params={"depth": 50, "direction": "both"},
        )
        took = time.monotonic() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert answer.status_code == 200
    graph = answer.json()
    assert graph["truncated"] and len(graph["nodes"]) <= 2_000
    print(f"lineage: {queries} queries, {took:.2f}s, {len(graph['nodes'])} nodes")
    assert queries <= 10_000 and took < 20, (queries, took)


def test_lineage_reads_are_bounded_before_the_node_limit(world: World) -> None:
    """A thousand steps that each write the same 25 outputs: 25,000 links to 1,026 nodes.
    The walk stops reading at its budget (``truncated``), well before the node limit."""
    run_id = world.start(pipeline="many-links")
    source = "b" * 32
    outputs = [artifact(f"o{j}", "out", f"c{j:031x}") for j in range(25)]
    for part in range(2):
        batch = [
            step(f"s{part}-{i}", artifacts=[artifact("i", "in", source), *outputs])
            for i in range(500)
        ]
        assert world.record("editor", run_id, batch).status_code == 204
    answer = world.call(
        "viewer",
        "GET",
        f"/lineage/artifact:{source}",
        params={"depth": 3, "direction": "downstream"},
    )
    graph = answer.json()
    assert answer.status_code == 200 and len(graph["nodes"]) == 1_026
    assert graph["truncated"]  # not every step's links were read


# -- the CLI -----------------------------------------------------------------------------------


def test_the_cli_prints_what_others_recorded_without_escapes(
    world: World, gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = f"log line {EVIL}\r\n".encode()
    logs_digest = digest_of(logs)
    assert world.call("editor", "PUT", f"/pipeline-objects/{logs_digest}", content=logs).is_success
    run = {
        "pipeline": "evil-names",
        "function": "m:f",
        "spec": {},
        "params": {"p": EVIL},
        "executor": "local",
        "trigger": f"manual {EVIL}",
    }
    created = world.call("editor", "POST", "/pipeline-runs", json=run)
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    evil = step(
        "evil",
        status="failed",
        error={"type": EVIL, "message": EVIL},
        logs_digest=logs_digest,
        cached_from=EVIL[:32],
        artifacts=[artifact(f"o{EVIL}", "out", "3" * 32, preview=EVIL, type_name=EVIL)],
    )
    skipped = step(f"skipped{EVIL}", status="skipped", step=EVIL)
    assert world.record("editor", run_id, [evil, skipped]).status_code == 204
    monkeypatch.setenv("GNOMON_URI", world.live.url)
    monkeypatch.setenv("GNOMON_TOKEN", world.tokens["viewer"])
    for command in (
        ("pipeline", "list"),
        ("pipeline", "show", run_id),
        ("pipeline", "logs", run_id, "evil"),
        ("lineage", f"step:{evil['id']}"),
        ("lineage", f"pipeline-run:{run_id}", "--downstream"),
        ("lineage", "artifact:" + "3" * 32),
    ):
        out = ok(*command)
        assert not any(c in out for c in ("\x1b", "\x07", "\r", "\x9b")), (command, out)
    assert "\\x1b]0;pwned" in ok("pipeline", "show", run_id)


# -- the client: what a server or a store sends it ---------------------------------------------


def test_a_client_refuses_digests_that_are_paths(tmp_path: Path) -> None:
    objects = LocalObjects(tmp_path / "objects")
    secret = tmp_path / "secret"
    secret.write_bytes(b"not an object")
    for digest in ("../secret", "../../" + "0" * 26, "/etc/passwd" + "0" * 21, "A" * 32, ""):
        with pytest.raises(NotFound):
            objects.path(digest)
        assert not objects.has(digest) and not objects.exists(digest, 13)


def test_a_client_refuses_bytes_that_do_not_match_their_digest(tmp_path: Path) -> None:
    """A server (or its store) that answers other bytes for a digest: never unpickled."""
    import pickle

    from gnomon.client.transport import Transport
    from gnomon.pipelines.http_objects import HttpObjects

    planted = pickle.dumps(os.getcwd)
    wanted = digest_of(b"what the step wrote")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        headers = [(b"content-type", b"application/octet-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": planted})

    with run_uvicorn(app) as url:
        objects = HttpObjects(url, "default", Transport(url, token="t", workspace="default"))
        with pytest.raises(NotFound, match="damaged"):
            objects.get(wanted)
        with pytest.raises(NotFound):
            objects.get("../../etc/passwd")
        assert not objects.exists("../x", 1)


def test_a_schedule_runs_only_a_pipeline() -> None:
    """``--pipeline os:system`` (or any callable) is refused by the worker before it is called."""
    started: list[str] = []
    for ref in ("os:system", "subprocess:run", "builtins:exec", "os", "no.such.module:x"):
        status, run_id, message = run_tick(
            ref,
            {},
            {},
            cast(PipelinesApi, None),  # never reached: nothing is imported that is not a pipeline
            executor="local",
            trigger="t",
            started=started.append,
        )
        assert (status, run_id, started) == ("failed", None, []), ref
        assert message and ("pipeline" in message or "import" in message), message
