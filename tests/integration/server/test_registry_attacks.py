"""An editor attacking the API server through the registry, on a real server: the server
never unpickles what an editor uploads, checks downloads against digests it recorded itself,
confines every path a model names to its folder, and seals a run's logged models."""

from __future__ import annotations

import hashlib
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon.auth.entities import Principal, Role
from gnomon.client.transport import Transport
from gnomon.errors import Conflict, InvalidInput
from gnomon.registry.http import HttpRegistryClient
from gnomon.tracking import fluent
from tests.fixtures.payloads import PICKLE, archive_of, tamper, write_hostile_model
from tests.fixtures.server import LiveServer

API = "/api/v1"


class Editor(NamedTuple):
    workspace: str
    token: str
    client: gnomon.Client
    http: httpx.Client


@pytest.fixture(scope="module")
def account(auth_server: LiveServer) -> tuple[str, str]:
    """A user with the editor role (not admin) in a workspace of their own: (workspace,
    token). Tests share it and name their models apart."""
    auth = auth_server.services.auth
    assert auth is not None
    tag = uuid.uuid4().hex[:8]
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    workspace, user = f"attack-ws-{tag}", f"attack-editor-{tag}"
    auth.create_user(root, user, "password-123")
    auth.create_workspace(root, workspace)
    auth.add_member(root, workspace, user, Role.EDITOR)
    token, _ = auth.login(user, "password-123")
    return workspace, token


@pytest.fixture
def editor(
    auth_server: LiveServer,
    account: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Editor]:
    """The editor, with the fluent API pointed at the server as them."""
    workspace, token = account
    for name, value in (
        ("GNOMON_URI", auth_server.url),
        ("GNOMON_TOKEN", token),
        ("GNOMON_WORKSPACE", workspace),
        ("GNOMON_HOME", str(tmp_path / "home")),
    ):
        monkeypatch.setenv(name, value)
    fluent._reset()
    headers = {"Authorization": f"Bearer {token}", "X-Gnomon-Workspace": workspace}
    with httpx.Client(base_url=auth_server.url + API, headers=headers) as http:
        yield Editor(workspace, token, gnomon.Client(), http)
    fluent._reset()


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _sklearn_model() -> tuple[object, pd.DataFrame]:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    return LogisticRegression().fit(frame, frame["a"] > 0), frame


def _import(editor: Editor, name: str, body: bytes) -> httpx.Response:
    return editor.http.post(
        f"/models/{name}/import", content=body, headers={"content-type": "application/gzip"}
    )


# -- the server never loads what an editor uploads ----------------------------------------


def test_importing_a_pickle_payload_never_runs_it(editor: Editor, tmp_path: Path) -> None:
    marker = tmp_path / "pwned-import"
    folder = write_hostile_model(tmp_path / "hostile", marker)

    response = _import(editor, "hostile", archive_of(folder))

    # Stored without loading: the YAML, the file list and the hashes are all the server checks.
    assert response.status_code == 201, response.text
    version = response.json()
    digest = hashlib.sha256((folder / PICKLE).read_bytes()).hexdigest()
    assert version["files"] == {PICKLE: digest}
    assert len(version["spec_sha256"]) == 64
    assert editor.http.get("/models/hostile/versions/1/files").status_code == 200
    assert editor.http.get("/models/hostile/versions/1/contract").json() is None
    assert not marker.exists()


def test_registering_a_runs_uri_with_a_pickle_payload_never_runs_it(
    editor: Editor, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned-runs"
    folder = write_hostile_model(tmp_path / "model", marker)
    client = editor.client
    run = client.create_run(client.create_experiment(_unique("hostile-runs")).id)
    client.log_artifact(run.id, folder)

    recorded = client.registry.record_logged_model(run.id, "model")
    version = client.registry.register(f"runs:/{run.id}/model", "hostile-run")

    assert (
        recorded.files
        == version.files
        == {PICKLE: hashlib.sha256((folder / PICKLE).read_bytes()).hexdigest()}
    )
    assert version.version == 1 and version.run_id == run.id
    assert not marker.exists()


# -- digests are the server's facts, not the uploader's YAML ----------------------------------


def test_a_rewritten_file_and_yaml_in_registry_storage_is_refused(
    editor: Editor, tmp_path: Path
) -> None:
    model, frame = _sklearn_model()
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame)
    version = gnomon.register_model(uri, "victim", alias="production")
    marker = tmp_path / "pwned-storage"

    tamper(Path(version.storage_uri), marker)  # the file and the YAML's hash list agree

    with pytest.raises(InvalidInput, match=PICKLE):
        gnomon.load_model("models:/victim@production")
    refused = editor.http.get("/models/victim/versions/production/files")
    assert refused.status_code == 422 and PICKLE in refused.json()["error"]["message"]
    assert not marker.exists()


def test_the_remote_client_checks_a_download_itself(
    editor: Editor, auth_server: LiveServer, tmp_path: Path
) -> None:
    """Between the server and the client (a proxy, a cache) the files are rewritten: the
    client compares them with the digests on the version, not with the YAML it received."""
    model, frame = _sklearn_model()
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame)
    editor.client.registry.register(uri, "in-transit")
    folder = editor.client.registry.download_version("models:/in-transit/1", tmp_path / "ok")
    tamper(folder, tmp_path / "pwned-transit")
    rewritten = archive_of(folder)
    upstream = httpx.HTTPTransport()

    def middle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/files"):
            headers = {"x-gnomon-version": "1", "x-gnomon-archive": "1"}
            return httpx.Response(200, headers=headers, content=rewritten)
        return upstream.handle_request(request)

    transport = Transport(
        auth_server.url,
        token=editor.token,
        workspace=editor.workspace,
        http_transport=httpx.MockTransport(middle),
    )
    with pytest.raises(InvalidInput, match=PICKLE):
        HttpRegistryClient(transport).download_version("models:/in-transit/1", tmp_path / "fetched")
    assert not (tmp_path / "pwned-transit").exists()


def test_a_contract_edit_records_the_new_yaml_digest(editor: Editor) -> None:
    model, frame = _sklearn_model()
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame)
    registry = editor.client.registry
    before = registry.register(uri, "edited")
    contract = registry.get_contract("edited", 1)
    assert contract is not None

    after = registry.set_contract("edited", 1, contract.with_column("a", maximum=99.0))

    assert after.spec_sha256 != before.spec_sha256
    assert registry.get_version("edited", 1).spec_sha256 == after.spec_sha256
    assert gnomon.load_model("models:/edited/1").contract.column("a").maximum == 99.0


def test_a_rewritten_logged_model_is_refused_by_runs_loads_and_registration(
    editor: Editor, tmp_path: Path
) -> None:
    model, frame = _sklearn_model()
    with gnomon.start_run() as run:
        uri = gnomon.log_model(model, "model", input_example=frame)
    marker = tmp_path / "pwned-run-storage"
    tamper(Path(editor.client.get_run(run.id).artifact_uri) / "model", marker)

    with pytest.raises(InvalidInput, match=PICKLE):
        gnomon.load_model(uri)
    with pytest.raises(InvalidInput, match=PICKLE):
        gnomon.register_model(uri, "from-tampered-run")
    assert not marker.exists()


def test_the_server_records_its_own_digests_not_the_clients(editor: Editor) -> None:
    run = editor.client.create_run(editor.client.create_experiment(_unique("digests")).id)
    forged = {"path": "model", "files": {PICKLE: "0" * 64}, "spec_sha256": "0" * 64}

    response = editor.http.post(f"/runs/{run.id}/logged-models", json=forged)

    assert response.status_code == 422


# -- sealed logged models ---------------------------------------------------------------------


def test_a_logged_model_is_sealed_even_after_the_run_is_resumed(editor: Editor) -> None:
    model, frame = _sklearn_model()
    client = editor.client
    with gnomon.start_run() as run:
        gnomon.log_model(model, "model", input_example=frame)
        running = editor.http.put(f"/runs/{run.id}/artifacts/model/{PICKLE}", content=b"evil")
        assert running.status_code == 409, running.text
        assert editor.http.put(f"/runs/{run.id}/artifacts/notes.txt", content=b"ok").is_success
        with pytest.raises(Conflict, match="already logged a model"):
            client.registry.record_logged_model(run.id, "model")

    finished = editor.http.put(f"/runs/{run.id}/artifacts/late.txt", content=b"late")
    assert finished.status_code == 409 and "FINISHED" in finished.json()["error"]["message"]

    client.tracking.resume_run(client.scope, run.id)
    for key in (f"model/{PICKLE}", "model//./gnomon-model.yaml", "model/extra.pkl"):
        reopened = editor.http.put(f"/runs/{run.id}/artifacts/{key}", content=b"evil")
        assert reopened.status_code == 409, key
    assert editor.http.put(f"/runs/{run.id}/artifacts/more.txt", content=b"ok").is_success
    assert gnomon.load_model(f"runs:/{run.id}/model").flavor == "sklearn"


# -- paths stay inside the model folder -------------------------------------------------------


def _member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = target
    member.size = 1 if kind == tarfile.REGTYPE else 0
    return member


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (_member(PICKLE + ".link", tarfile.SYMTYPE, "/etc/passwd"), "model.joblib.link"),
        (_member("sub", tarfile.SYMTYPE, "/tmp"), "'sub'"),
        (_member("hard", tarfile.LNKTYPE, "/etc/passwd"), "'hard'"),
        (_member("../escaped.txt"), "escaped.txt"),
        (_member("/abs.txt"), "abs.txt"),
    ],
)
def test_archive_members_that_link_or_escape_are_refused(
    editor: Editor, tmp_path: Path, extra: tarfile.TarInfo, named: str
) -> None:
    folder = write_hostile_model(tmp_path / "model", tmp_path / "marker")

    response = _import(editor, "escape", archive_of(folder, [extra]))

    assert response.status_code == 422, response.text
    assert named in response.json()["error"]["message"]
    assert editor.http.get("/models/escape").status_code == 404
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"loader": {"file": "/etc/passwd"}}, "/etc/passwd"),
        ({"loader": {"file": f"../{PICKLE}"}}, f"../{PICKLE}"),
        ({"loader": {"file": "C:/model.joblib"}}, "C:/model.joblib"),
        ({"loader": {"file": "other.joblib"}}, "other.joblib"),
        ({"files": {"../../etc/passwd": "0" * 64}}, "../../etc/passwd"),
    ],
)
def test_paths_in_the_yaml_outside_the_folder_are_refused(
    editor: Editor, tmp_path: Path, spec: dict[str, object], named: str
) -> None:
    folder = write_hostile_model(tmp_path / "model", tmp_path / "marker", **spec)

    response = _import(editor, "outside", archive_of(folder))

    assert response.status_code == 422, response.text
    assert named in response.json()["error"]["message"]
    assert editor.http.get("/models/outside").status_code == 404


# -- hostile descriptions and archives: refused with 422/413, never a 500 ---------------------

LAUGHS = "metadata:\n  l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 9)
)


def _with_yaml_tail(folder: Path, tail: str) -> Path:
    spec = folder / "gnomon-model.yaml"
    spec.write_text(spec.read_text() + tail)
    return folder


def _refused(response: httpx.Response, status: int, *named: str) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]["message"]
    assert "/tmp/" not in message and "gnomon-import-" not in message  # no server paths
    for text in named:
        assert text in message, message
    return message


@pytest.mark.parametrize(
    ("tail", "named"),
    [
        (LAUGHS, "anchor or alias"),  # a billion "lol"s from 600 bytes
        ("metadata: &a {x: *a}\n", "anchor or alias"),  # a structure that contains itself
        ("metadata: {x: " + "[" * 100 + "]" * 100 + "}\n", "nests deeper"),
    ],
)
def test_yaml_bombs_are_refused_before_they_expand(
    editor: Editor, tmp_path: Path, tail: str, named: str
) -> None:
    folder = _with_yaml_tail(write_hostile_model(tmp_path / "m", tmp_path / "marker"), tail)

    response = _import(editor, "laughs", archive_of(folder))

    _refused(response, 422, "the uploaded model's gnomon-model.yaml", named)
    assert editor.http.get("/models/laughs").status_code == 404


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"format_version": "abc"}, "format_version"),
        ({"format_version": float("inf")}, "format_version"),
        ({"flavor": ["sklearn"]}, "'flavor'"),
        ({"flavor": {"a": 1}}, "'flavor'"),
        ({"flavor": "\ud800"}, "gnomon-model.yaml"),  # a lone surrogate
        ({"contract": "abc"}, "'contract'"),
        ({"contract": [1]}, "'contract'"),
        ({"contract": {"margin": "abc", "inputs": []}}, "margin"),
        ({"python_version": [1]}, "'python_version'"),
        ({"requirements": {"a": 1}}, "'requirements'"),
        ({"files": {PICKLE: "0" * 64, "\ud800": "0" * 64}}, "gnomon-model.yaml"),
    ],
)
def test_a_description_of_the_wrong_shape_is_one_422_naming_the_key(
    editor: Editor, tmp_path: Path, spec: dict[str, object], named: str
) -> None:
    folder = write_hostile_model(tmp_path / "m", tmp_path / "marker", **spec)

    response = _import(editor, "shapes", archive_of(folder))

    _refused(response, 422, named)
    assert editor.http.get("/models/shapes").status_code == 404


def test_an_archive_member_name_that_is_not_utf8_is_refused(editor: Editor, tmp_path: Path) -> None:
    folder = write_hostile_model(tmp_path / "m", tmp_path / "marker")
    name = b"\xed\xa0\x80.bin".decode("utf-8", "surrogateescape")  # an encoded lone surrogate
    member = _member(name)
    yaml_files = {PICKLE: hashlib.sha256((folder / PICKLE).read_bytes()).hexdigest()}
    yaml_files[name] = hashlib.sha256(b"x").hexdigest()
    write_hostile_model(folder, tmp_path / "marker", files=yaml_files)

    response = _import(editor, "surrogate", archive_of(folder, [member]))

    _refused(response, 422, "not valid UTF-8")
    assert editor.http.get("/models/surrogate").status_code == 404


def test_a_gzip_bomb_is_refused_before_it_is_unpacked(editor: Editor, tmp_path: Path) -> None:
    folder = write_hostile_model(tmp_path / "m", tmp_path / "marker")
    zeros = _member("zeros.bin")
    zeros.size = 16 * 2**20  # 16 MiB of zeros gzip to 16 KB: 1000:1

    body = archive_of(folder, [zeros])
    response = _import(editor, "bomb", body)

    _refused(response, 413, f"archive of {len(body)} bytes", "200 times")
    assert editor.http.get("/models/bomb").status_code == 404


def test_an_archive_of_too_many_members_is_refused(editor: Editor, tmp_path: Path) -> None:
    folder = write_hostile_model(tmp_path / "m", tmp_path / "marker")
    empties = [_member(f"e{i}") for i in range(10_001)]
    for member in empties:
        member.size = 0

    response = _import(editor, "many", archive_of(folder, empties))

    message = _refused(response, 422, "more than 10000 members")
    assert len(message) < 500  # not a list of ten thousand names


def test_an_oversized_contract_is_refused(open_server: LiveServer, tmp_path: Path) -> None:
    """On a server with the default 32 MiB JSON limit, so the contract's own caps answer."""
    folder = write_hostile_model(tmp_path / "m", tmp_path / "marker")
    name = _unique("wide")
    column = {"name": "c", "dtype": "category", "categories": [0] * 10_001}
    wide = [{"name": f"c{i}", "dtype": "int64"} for i in range(4097)]
    with httpx.Client(base_url=open_server.url + API) as http:
        imported = http.post(
            f"/models/{name}/import",
            content=archive_of(folder),
            headers={"content-type": "application/gzip"},
        )
        assert imported.status_code == 201, imported.text
        for inputs, named in (([column], "10000"), (wide, "4096")):
            body = {"margin": 0.1, "inputs": inputs}
            response = http.put(f"/models/{name}/versions/1/contract", json=body)
            assert response.status_code == 422, response.text
            assert named in response.text
        assert http.get(f"/models/{name}/versions/1/contract").json() is None


@pytest.mark.parametrize("claimed", ["runs:/{run}/model", "models:/victim/1", " RUNS:/{run}/x"])
def test_an_import_cannot_claim_a_runs_provenance(
    editor: Editor, tmp_path: Path, claimed: str
) -> None:
    run = editor.client.create_run(editor.client.create_experiment(_unique("forged")).id)
    folder = write_hostile_model(tmp_path / "m", tmp_path / "marker")
    headers = {"content-type": "application/gzip"}

    forged = editor.http.post(
        "/models/forged/import",
        params={"source": claimed.format(run=run.id)},
        content=archive_of(folder),
        headers=headers,
    )
    plain = editor.http.post("/models/forged/import", content=archive_of(folder), headers=headers)

    _refused(forged, 422, "source")
    assert plain.status_code == 201, plain.text
    assert plain.json()["run_id"] is None and plain.json()["source"] == "import"
    assert editor.http.get("/model-versions", params={"run_id": run.id}).json()["items"] == []


def test_an_error_message_with_a_lone_surrogate_still_answers() -> None:
    from gnomon.web.errors import error_response

    response = error_response(InvalidInput("model '\ud800' is bad", {"name": "\udcff"}))

    assert response.status_code == 422
    assert b"\\ud800" in response.body and b"\\udcff" in response.body
