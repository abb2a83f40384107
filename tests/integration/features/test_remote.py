"""The feature store through a server, as a user on another machine has it: ``gnomon
features apply|diff|list|show`` send specs (sources checked on the client), training frames
are built on the client, materialising writes the server's online store, lookups go through
the online route; and the routes hold against bad input and other callers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import httpx
import pandas as pd
import pytest

import gnomon
from gnomon._types import Scope
from gnomon.auth.entities import Principal, Role
from gnomon.errors import InvalidInput
from gnomon.features.online_sqlite import default_path
from gnomon.features.service import FeatureRegistry
from gnomon.tracking import fluent
from tests.fixtures.cli import fails, ok, ok_json
from tests.fixtures.server import LiveServer, add_tenant

API = "/api/v1"

REPO = """
from datetime import timedelta

from gnomon.features.definitions import Entity, FeatureService, FeatureView, Field, FileSource

card = Entity("card", join_keys=["card"])
amounts = FeatureView(
    name="amounts",
    entities=[card],
    source=FileSource({path!r}),
    schema=[Field("amount", "{dtype}")],
    ttl=timedelta(days=30),
)
scoring = FeatureService("scoring", ["amounts:amount"])
"""


class Remote(NamedTuple):
    workspace: str
    http: httpx.Client  # the tenant's token and workspace
    scope_id: str
    data: Path
    repo: Path


@pytest.fixture
def remote(
    auth_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Remote]:
    """A tenant of the server, the CLI and SDK pointed at it, and a repo over a Parquet file."""
    tenant = add_tenant(auth_server, f"feat-{tmp_path.name[-12:]}")
    now = datetime.now(UTC)
    data = tmp_path / "cards.parquet"
    pd.DataFrame(
        {
            "card": ["a", "b", "a"],
            "amount": [1.0, 2.0, 3.0],
            "event_timestamp": [now - timedelta(days=2), now - timedelta(days=1), now],
        }
    ).to_parquet(data)
    repo = tmp_path / "repo.py"
    repo.write_text(REPO.format(path=str(data), dtype="float64"))
    for name, value in (
        ("GNOMON_URI", auth_server.url),
        ("GNOMON_TOKEN", tenant.token),
        ("GNOMON_WORKSPACE", tenant.workspace),
        ("GNOMON_HOME", str(tmp_path / "client-home")),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GNOMON_ONLINE_STORE", raising=False)
    fluent._reset()
    headers = {"Authorization": f"Bearer {tenant.token}", "X-Gnomon-Workspace": tenant.workspace}
    with httpx.Client(base_url=auth_server.url + API, headers=headers) as http:
        yield Remote(tenant.workspace, http, tenant.scope.workspace, data, repo)
    fluent._reset()


def test_apply_through_a_server_then_train_materialise_and_read_online(
    remote: Remote, auth_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied = ok_json("features", "apply", str(remote.repo))
    assert applied["applied"] and {c["action"] for c in applied["changes"]} == {"created"}
    listed = ok_json("features", "list")
    assert [(d["kind"], d["name"], d["version"]) for d in listed] == [
        ("entity", "card", 1), ("service", "scoring", 1), ("view", "amounts", 1),
    ]  # fmt: skip
    assert ok_json("features", "show", "amounts")[0]["versions"][0]["version"] == 1
    assert "unchanged" in ok("features", "diff", str(remote.repo))

    # The server holds what the client sent, in the tenant's workspace.
    server_side = auth_server.services.for_server().get(FeatureRegistry)
    tenant_scope = _scope(remote)
    assert server_side.get(tenant_scope, "view", "amounts").version == 1

    # A breaking change is refused with the list, and applied with --force.
    remote.repo.write_text(remote.repo.read_text().replace('"float64"', '"int64"'))
    pd.DataFrame({"card": ["a"], "amount": [4], "event_timestamp": [datetime.now(UTC)]}).to_parquet(
        remote.data
    )
    assert "breaks" in ok("features", "diff", str(remote.repo))
    assert "refused: 1 breaking change" in fails("features", "apply", str(remote.repo))
    assert server_side.get(tenant_scope, "view", "amounts").version == 1
    forced = ok_json("features", "apply", str(remote.repo), "--force")
    assert forced["breaking"] and server_side.get(tenant_scope, "view", "amounts").version == 2

    # Training frames are built here, from the catalog the server holds.
    client = gnomon.Client()
    entity_df = pd.DataFrame({"card": ["a", "zz"], "event_timestamp": [datetime.now(UTC)] * 2})
    frame = client.features.get_training_frame(entity_df, service="scoring")
    assert frame["amount"].tolist()[0] == 4 and pd.isna(frame["amount"].tolist()[1])

    # Materialising needs the server's online store, named here.
    with pytest.raises(InvalidInput, match="GNOMON_ONLINE_STORE"):
        client.features.materialize(progress=False)
    monkeypatch.setenv("GNOMON_ONLINE_STORE", str(default_path(auth_server.settings.home)))
    fluent._reset()
    client = gnomon.Client()
    [done] = client.features.materialize(progress=False)
    assert done.entities_written == 1
    # Read back through the route, 1,000 rows a request: the server's store answers.
    keys = ["a", "zz"] * 700
    found = client.features.get_online_features({"card": keys}, service="scoring")
    assert found["card"] == keys and found["amount"] == [4, None] * 700
    reader = client.features.online_reader(service="scoring")  # a model server's enrichment
    assert reader.join_keys == ["card"] and reader({"card": ["a"]})["amount"] == [4]
    with pytest.raises(InvalidInput, match="beside the feature store"):
        client.features.push_features("amounts", pd.DataFrame({"card": ["a"]}))


def test_a_source_is_checked_on_the_client_and_nothing_is_written_when_it_fails(
    remote: Remote,
) -> None:
    declared = 'Field("amount", "float64")'
    remote.repo.write_text(
        remote.repo.read_text().replace(declared, f'{declared}, Field("missing")')
    )
    said = fails("features", "apply", str(remote.repo))
    assert "missing" in said and "amounts" in said
    assert ok_json("features", "list") == []


def test_the_routes_refuse_bad_specs_other_callers_and_never_read_a_source(
    remote: Remote, auth_server: LiveServer
) -> None:
    entity = {"kind": "entity", "spec": {"name": "card", "join_keys": ["card"]}}
    view = {
        "kind": "view",
        "spec": {
            "name": "elsewhere",
            "entities": ["card"],
            "source": {"kind": "file", "path": "/nowhere/on/the/server.parquet"},
            "schema": [{"name": "amount", "dtype": "float64"}],
        },
    }
    # The server reads no source a client names: a path it cannot see is the client's.
    answer = remote.http.post("/features/apply", json={"definitions": [entity, view]})
    assert answer.status_code == 200, answer.text
    assert [c["action"] for c in answer.json()["changes"]] == ["created", "created"]

    long = "x" * 10_000
    for bad, status in (
        ({"definitions": [{"kind": "table", "spec": {"name": "t"}}]}, 422),
        ({"definitions": [{"kind": "view", "spec": {"name": "v", "schema": "no"}}]}, 422),
        ({"definitions": [{"kind": "view", "spec": {**view["spec"], "ttl_seconds": 1e308}}]}, 422),
        ({"definitions": [{"kind": "entity", "spec": {"name": long, "join_keys": ["k"]}}]}, 422),
        ({"definitions": [entity], "force": "yes"}, 422),
        ({"definitions": [{"kind": "entity", "spec": {"name": "c", "join_keys": "k"}}]}, 422),
    ):
        refused = remote.http.post("/features/apply", json=bad)
        assert refused.status_code == status, (bad, refused.text)
        assert long not in refused.text and "Traceback" not in refused.text
    # Every field of a spec is checked (a viewer's diff too): never a 500, an echo or a
    # value stored that would fail every client later.
    spec, source = view["spec"], view["spec"]["source"]
    huge = "y" * 20_000  # under this server's 64 KiB body limit
    for changed in (
        {"entities": [["card"]]},
        {"entities": [{"a": 1}]},
        {"entities": [huge]},
        {"source": {**source, "path": {"a": 1}}},
        {"source": {**source, "path": ["a"]}},
        {"source": {**source, "format": "json"}},
        {"source": {"kind": "dataset", "ref": ["x"]}},
        {"source": {"kind": "postgres", "uri": "postgresql://h/db", "query": {"a": 1}}},
        {"source": {"kind": "postgres", "uri": "postgresql://h/db?passw%6Frd=s", "query": "q"}},
        {"source": {**source, "paths": "typo"}},
        {"ttl_seconds": "60"},
        {"ttl_seconds": True},
        {"ttl_seconds": 8.639e13},
        {"ttl": 60},
        {"description": {"a": 1}},
    ):
        bad = {"definitions": [{"kind": "view", "spec": {**spec, "name": "v2", **changed}}]}
        refused = remote.http.post("/features/diff", json=bad)
        assert refused.status_code == 422, (changed, refused.text)
        assert len(refused.text) < 2000 and "Traceback" not in refused.text, changed
    for features in ([1], [["elsewhere"]], [None], [f"elsewhere:{huge}"], [huge]):
        service = {"kind": "service", "spec": {"name": "s", "features": features}}
        refused = remote.http.post("/features/diff", json={"definitions": [service]})
        assert refused.status_code == 422, (features, refused.text)
        assert len(refused.text) < 2000, features
    huge = {"definitions": [entity] * 2000}  # past the server's body limit: read no further
    assert remote.http.post("/features/apply", json=huge).status_code == 413
    assert remote.http.get("/features/definitions", params={"name": long}).status_code == 422
    missing = remote.http.get("/features/definitions", params={"kind": "view", "name": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["error"]["message"]
    versions = remote.http.get("/features/definitions/view/elsewhere/versions")
    assert [v["version"] for v in versions.json()] == [1]

    # Anonymous: 401. A viewer may read and diff, not apply. Another workspace sees nothing.
    url = auth_server.url + API
    assert httpx.post(f"{url}/features/apply", json={"definitions": []}).status_code == 401
    viewer = _member(auth_server, remote.workspace, Role.VIEWER)
    assert httpx.get(f"{url}/features/definitions", headers=viewer).status_code == 200
    diffed = httpx.post(f"{url}/features/diff", json={"definitions": [entity]}, headers=viewer)
    assert diffed.status_code == 200 and diffed.json()["applied"] is False
    refused = httpx.post(f"{url}/features/apply", json={"definitions": [entity]}, headers=viewer)
    assert refused.status_code == 403
    other = add_tenant(auth_server, f"other-{remote.workspace[-12:]}")
    theirs = {"Authorization": f"Bearer {other.token}", "X-Gnomon-Workspace": other.workspace}
    assert httpx.get(f"{url}/features/definitions", headers=theirs).json() == []


def _scope(remote: Remote) -> Scope:
    return Scope(remote.scope_id, "admin")


def _member(live: LiveServer, workspace: str, role: Role) -> dict[str, str]:
    auth = live.services.auth
    assert auth is not None
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    name = f"{role.value}-{workspace}"
    auth.create_user(root, name, "password-123")
    auth.add_member(root, workspace, name, role)
    token, _ = auth.login(name, "password-123")
    return {"Authorization": f"Bearer {token}", "X-Gnomon-Workspace": workspace}
