"""Datasets through a real server: add → checkout round trips byte for byte, an unchanged
folder uploads nothing, and a restricted dataset is invisible to other members."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

import gnomon
from gnomon.auth.entities import Principal, Role
from gnomon.client.transport import Transport
from gnomon.data.http import HttpDatasetClient
from gnomon.errors import NotFound, PermissionDenied
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.server import LiveServer


def _folder(root: Path) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "images" / "a.bin").write_bytes(bytes(range(256)) * 100)
    (root / "images" / "b.bin").write_bytes(b"same")
    (root / "copy.bin").write_bytes(b"same")  # one object for two paths
    (root / "notes.txt").write_text("héllo\n")
    return root


def _remote(live: LiveServer, tmp_path: Path, workspace: str, token: str | None = None) -> Any:
    settings = gnomon.Settings(uri=live.url, workspace=workspace, home=tmp_path, token=token)
    datasets = gnomon.Client(settings=settings).datasets
    assert isinstance(datasets, HttpDatasetClient)
    return datasets


def test_add_checkout_and_an_unchanged_add_through_a_server(
    open_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert open_server.services.database is not None
    scope = fresh_workspace(open_server.services.database)
    datasets = _remote(open_server, tmp_path / "home", scope.workspace)
    source = _folder(tmp_path / "source")

    added = datasets.add(source, "images", message="first")
    assert added.created and added.version.version == 1
    assert added.new_objects == 3  # b.bin and copy.bin share one object
    assert datasets.version("images@latest").files == 4

    out = datasets.checkout("images@1", tmp_path / "out")
    for path in source.rglob("*"):
        if path.is_file():
            assert (out / path.relative_to(source)).read_bytes() == path.read_bytes()

    uploads: list[str] = []
    original = Transport.upload
    monkeypatch.setattr(
        Transport, "upload", lambda self, p, f, w=None: uploads.append(p) or original(self, p, f, w)
    )
    again = datasets.add(source, "images")
    assert not again.created and again.version.version == 1 and uploads == []
    assert [v.version for v in datasets.versions("images")] == [1]
    with pytest.raises(NotFound):
        datasets.version("images@2")


def test_an_upload_whose_digest_differs_stores_nothing(open_server: LiveServer) -> None:
    assert open_server.services.database is not None
    scope = fresh_workspace(open_server.services.database)
    digest = "xxh128:" + "0" * 32
    headers = {"X-Gnomon-Workspace": scope.workspace}
    with httpx.Client(base_url=f"{open_server.url}/api/v1", headers=headers) as http:
        put = http.put(f"/dataset-objects/{digest}", content=b"not that")
        assert put.status_code == 422
        asked = http.post("/dataset-objects/missing", json={"digests": [digest]})
        assert asked.json() == {"missing": [digest]}
        entries = [{"path": "a.bin", "digest": digest, "size": 8}]
        made = http.post("/datasets/x/versions", json={"files": entries})
        assert made.status_code == 422 and "upload it first" in made.text
        climbing = [{"path": "../a.bin", "digest": digest, "size": 8}]
        made = http.post("/datasets/x/versions", json={"files": climbing})
        assert made.status_code == 422


def _editors(live: LiveServer, workspace: str, users: tuple[str, ...]) -> dict[str, str]:
    """A new workspace with ``users`` as its editors; each one's session token."""
    auth = live.services.auth
    assert auth is not None
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    auth.create_workspace(root, workspace)
    tokens = {}
    for user in users:
        auth.create_user(root, user, "password-123")
        auth.add_member(root, workspace, user, Role.EDITOR)
        tokens[user] = auth.login(user, "password-123")[0]
    return tokens


def test_a_restricted_dataset_is_invisible_to_other_members(
    auth_server: LiveServer, tmp_path: Path
) -> None:
    workspace = "data-access"
    tokens = _editors(auth_server, workspace, ("ds-alice", "ds-bob", "ds-carol"))
    alice, bob, carol = (
        _remote(auth_server, tmp_path / u, workspace, tokens[u]) for u in sorted(tokens)
    )
    source = _folder(tmp_path / "source")
    alice.add(source, "secret")
    alice.add(source, "open")
    assert not alice.access("secret").restricted

    changed = alice.set_access("secret", readers=["ds-carol"], writers=["ds-alice"])
    assert changed.restricted and changed.writers == ("ds-alice",)

    assert [d.name for d in bob.list()] == ["open"]
    for call in (
        lambda: bob.get("secret"),
        lambda: bob.version("secret@1"),
        lambda: bob.checkout("secret@1", tmp_path / "bob-out"),
        lambda: bob.used_by("secret@1"),
        lambda: bob.access("secret"),
    ):
        with pytest.raises(NotFound, match="dataset 'secret' not found"):
            call()

    assert carol.get("secret").latest_version == 1
    (source / "more.txt").write_text("more")
    with pytest.raises(PermissionDenied):
        carol.add(source, "secret")
    with pytest.raises(PermissionDenied):
        carol.set_access("secret", writers=["ds-carol"])
    with pytest.raises(PermissionDenied, match="writer"):
        alice.set_access("secret", readers=["ds-alice"])  # she would lock herself out
    assert alice.add(source, "secret").version.version == 2

    alice.set_access("secret")  # open again
    assert {d.name for d in bob.list()} == {"open", "secret"}


def test_ingest_and_profile_pages_through_a_server(open_server: LiveServer, tmp_path: Path) -> None:
    assert open_server.services.database is not None
    scope = fresh_workspace(open_server.services.database)
    datasets = _remote(open_server, tmp_path, scope.workspace)
    query = "SELECT range AS n, range % 3 AS k FROM range(50) ORDER BY n"
    first = datasets.ingest("numbers", "duckdb", query=query)  # read here, stored there
    assert first.created and datasets.load("numbers")["n"].tolist() == list(range(50))
    assert not datasets.ingest("numbers", "duckdb", query=query).created
    datasets.ingest("numbers", "duckdb", query=query.replace("50", "80"))
    page = datasets.profile_html("numbers@1")
    assert "<svg" in page and "numbers@1" in page
    both = datasets.profile_html("numbers@1", compare="numbers@2")
    assert "numbers@1" in both and "numbers@2" in both
    with pytest.raises(NotFound):
        datasets.profile_html("numbers@1", compare="numbers@9")


def test_a_long_unknown_name_is_not_echoed_back_whole(
    open_server: LiveServer, tmp_path: Path
) -> None:
    assert open_server.services.database is not None
    scope = fresh_workspace(open_server.services.database)
    headers = {"X-Gnomon-Workspace": scope.workspace}
    name = "n" * 10_000
    for method, path in (
        ("GET", f"/api/v1/datasets/{name}"),
        ("POST", f"/api/v1/runs/{name}/inputs"),
    ):
        answer = httpx.request(
            method, open_server.url + path, headers=headers, json={"ref": "x@1"}, timeout=10
        )
        assert answer.status_code in (404, 422), (path, answer.status_code)
        assert len(answer.content) < 2_000, (path, len(answer.content))


def test_gc_through_a_server_is_a_workspace_admins(auth_server: LiveServer, tmp_path: Path) -> None:
    from tests.fixtures.server import add_tenant

    tenant = add_tenant(auth_server, "data-gc")
    auth = auth_server.services.auth
    assert auth is not None
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    auth.create_user(root, "gc-editor", "password-123")
    auth.add_member(root, tenant.workspace, "gc-editor", Role.EDITOR)
    editor, _ = auth.login("gc-editor", "password-123")
    url = f"{auth_server.url}/api/v1/dataset-objects"
    as_editor = {"Authorization": f"Bearer {editor}", "X-Gnomon-Workspace": tenant.workspace}
    content = b"uploaded, never versioned"
    from gnomon.data.hashing import digest_file

    (tmp_path / "upload.bin").write_bytes(content)
    digest = digest_file(tmp_path / "upload.bin")
    assert httpx.put(f"{url}/{digest}", content=content, headers=as_editor).status_code == 204
    assert httpx.post(f"{url}/collect", json={}, headers=as_editor).status_code == 403
    assert httpx.post(f"{url}/collect", json={}).status_code == 401
    for bad in ({"grace_s": -1}, {"grace_s": "NaN"}, {"grace_s": "1h"}, {"dry_run": "yes"}):
        refused = httpx.post(
            f"{url}/collect",
            json=bad,
            headers={**as_editor, "Authorization": f"Bearer {tenant.token}"},
        )
        assert refused.status_code == 422, (bad, refused.text)

    datasets = _remote(auth_server, tmp_path / "home", tenant.workspace, tenant.token)
    assert datasets.collect(grace_s=3600).objects == 0  # uploaded a moment ago
    counted = datasets.collect(grace_s=0, dry_run=True)
    assert (counted.objects, counted.bytes) == (1, len(content))
    assert datasets.collect(grace_s=0).objects == 1
    asked = httpx.post(f"{url}/missing", json={"digests": [digest]}, headers=as_editor)
    assert asked.json() == {"missing": [digest]}  # gone: an add would upload it again


def test_a_restricted_datasets_lineage_is_hidden_from_other_members(
    auth_server: LiveServer, tmp_path: Path
) -> None:
    workspace = "lineage-access"
    alice, bob = (
        gnomon.Client(
            settings=gnomon.Settings(
                uri=auth_server.url, workspace=workspace, home=tmp_path / user, token=token
            )
        )
        for user, token in _editors(auth_server, workspace, ("ln-alice", "ln-bob")).items()
    )
    alice.datasets.add(_folder(tmp_path / "source"), "secret")
    alice.datasets.set_access("secret", readers=["ln-alice"], writers=["ln-alice"])

    # The server's lineage reads datasets through the same access lists as /datasets.
    assert [n.id for n in alice.pipelines.lineage("dataset:secret@1").nodes] == ["dataset:secret@1"]
    with pytest.raises(NotFound, match="dataset 'secret' not found"):
        bob.pipelines.lineage("dataset:secret@1")
