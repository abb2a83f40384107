"""Attacks on the artifact routes of a real server over a local artifact folder: keys too
long for any store are a 422 naming the limit (never a 500), and a symbolic link planted in
a run's artifact folder never makes the server read, list or write outside it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.server import LiveServer

API = "/api/v1"
SECRET = b"the outside file's content: never served"


@pytest.fixture
def http(open_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=open_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def run(http: httpx.Client) -> dict[str, Any]:
    """A running run of its own experiment, with one artifact stored: ``data/ok.txt``."""
    experiment = http.post(f"{API}/experiments", json={"name": f"attack-{uuid.uuid4().hex}"})
    created = http.post(f"{API}/runs", json={"experiment_id": experiment.json()["id"]})
    run: dict[str, Any] = created.json()
    assert http.put(_url(run, "data/ok.txt"), content=b"fine").status_code == 204
    return run


def _url(run: dict[str, Any], key: str) -> str:
    return f"{API}/runs/{run['id']}/artifacts/{key}"


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    message: str = response.json()["error"]["message"]
    return message


@pytest.mark.parametrize(
    ("key", "limit"),
    [("a" * 300, "255 bytes"), ("ab/" * 1666 + "cc", "1024 bytes")],
    ids=["300-char-segment", "5000-char-path"],
)
def test_keys_too_long_are_422_naming_the_limit(
    http: httpx.Client, run: dict[str, Any], key: str, limit: str
) -> None:
    assert limit in _error(http.put(_url(run, key), content=b"x"), 422)
    assert limit in _error(http.get(_url(run, key)), 422)
    listing = http.get(f"{API}/runs/{run['id']}/artifacts", params={"path": key})
    assert limit in _error(listing, 422)
    assert http.get(f"{API}/runs/{run['id']}/artifacts").json() == [
        {"path": "data", "is_dir": True, "size": None}
    ]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the artifact root, as another workspace's folder or /etc would be."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(SECRET)
    return folder


def test_a_planted_file_link_is_never_served(
    http: httpx.Client, run: dict[str, Any], outside: Path
) -> None:
    (Path(run["artifact_uri"]) / "data" / "leak.txt").symlink_to(outside / "secret.txt")
    responses = [
        http.get(_url(run, "data/leak.txt")),
        http.get(_url(run, "data")),  # the folder, as a .tar.gz
        http.get(f"{API}/runs/{run['id']}/artifacts", params={"path": "data"}),
    ]
    for response in responses:
        assert "'data/leak.txt' is a symbolic link" in _error(response, 422)
        assert SECRET not in response.content


def test_a_planted_folder_link_is_never_walked(
    http: httpx.Client, run: dict[str, Any], outside: Path
) -> None:
    (Path(run["artifact_uri"]) / "other").symlink_to(outside, target_is_directory=True)
    for response in [
        http.get(_url(run, "other/secret.txt")),
        http.get(_url(run, "other")),
        http.get(f"{API}/runs/{run['id']}/artifacts"),
        http.put(_url(run, "other/planted.txt"), content=b"written through the link"),
    ]:
        assert "'other' is a symbolic link" in _error(response, 422)
        assert SECRET not in response.content
    assert [p.name for p in outside.iterdir()] == ["secret.txt"]
    assert http.get(_url(run, "data/ok.txt")).content == b"fine"  # the rest still serves
