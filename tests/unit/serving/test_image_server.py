"""The tracking server's build context: gnomon server under tini, as user 10001, no secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gnomon.errors import AlreadyExists, InvalidInput
from gnomon.serving.image_server import build_server_context
from tests.unit.serving.image_checks import (
    EXACT,
    PYTHON,
    WHEEL,
    docker_build,
    docker_ready,
    hadolint,
    healthy_pid1,
    instructions,
    lines,
    pip_installs,
    remove_image,
)

SECRETS = {
    "GNOMON_ADMIN_PASSWORD": "admin-pw-must-not-leak-1",
    "GNOMON_URI": "postgresql://gnomon:db-pw-must-not-leak-2@db/gnomon",
    "GNOMON_TOKEN": "gnm-token-must-not-leak-3",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-must-not-leak-4",
}


@pytest.fixture
def context(tmp_path: Path, wheel_cache: Path) -> Path:
    build_server_context(tmp_path / "server", workers=2, wheel_cache=wheel_cache)
    return tmp_path / "server"


def test_the_context_holds_the_wheel_and_the_lock(context: Path) -> None:
    assert sorted(p.name for p in context.iterdir()) == [
        ".dockerignore", "Dockerfile", "README.md", "requirements.lock", "wheels",
    ]  # fmt: skip
    assert [p.name for p in (context / "wheels").iterdir()] == [WHEEL]
    locked = lines(context / "requirements.lock")
    assert all(EXACT.match(pin) for pin in locked)
    names = {pin.split("==")[0].lower() for pin in locked}
    # A shared server's backends: PostgreSQL, S3 and Redis.
    assert {"psycopg", "psycopg-binary", "s3fs", "redis", "fastapi", "uvicorn"} <= names
    assert "gnomon" not in names


def test_the_dockerfile_runs_gnomon_server_as_the_image_user(context: Path) -> None:
    dockerfile = context / "Dockerfile"
    steps = instructions(dockerfile)
    assert steps[0] == f"FROM python:{PYTHON}-slim"
    assert pip_installs(dockerfile) == [
        "pip install --no-cache-dir --no-deps -r /srv/requirements.lock",
        f"pip install --no-cache-dir --no-deps --no-index /srv/wheels/{WHEEL}",
    ]
    assert "USER 10001:10001" in steps and "EXPOSE 5000" in steps
    healthcheck = next(s for s in steps if s.startswith("HEALTHCHECK"))
    assert "http://127.0.0.1:5000/healthz" in healthcheck
    assert steps[-2] == 'ENTRYPOINT ["tini", "--"]'
    assert json.loads(steps[-1].removeprefix("CMD ")) == [
        "gnomon", "server", "--host", "0.0.0.0", "--port", "5000", "--workers", "2",
    ]  # fmt: skip
    assert not any(s.startswith("COPY model/") for s in steps)


def test_the_dockerfile_passes_hadolint(context: Path) -> None:
    assert hadolint(context / "Dockerfile") == (0, [])


def test_no_secret_is_baked_in(
    tmp_path: Path, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    build_server_context(tmp_path / "server", wheel_cache=wheel_cache)
    for path in (tmp_path / "server").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [v for v in SECRETS.values() if v.encode() in data], path
    # Settings come from the environment the container starts with: only the home is set.
    env = next(s for s in instructions(tmp_path / "server" / "Dockerfile") if s.startswith("ENV"))
    assert [w.split("=")[0] for w in env.split()[1:] if w.startswith("GNOMON_")] == ["GNOMON_HOME"]


def test_extras_base_image_and_refusals(tmp_path: Path, wheel_cache: Path) -> None:
    pinned = f"python:{PYTHON}-slim@sha256:" + "0f" * 32
    built = build_server_context(
        tmp_path / "plain", extras=["postgres"], base_image=pinned, pin_base=True,
        wheel_cache=wheel_cache,
    )  # fmt: skip
    names = {pin.split("==")[0].lower() for pin in built.requirements}
    assert "psycopg" in names and "s3fs" not in names
    assert instructions(tmp_path / "plain" / "Dockerfile")[0] == f"FROM {pinned}"
    with pytest.raises(InvalidInput, match="has no digest"):
        build_server_context(tmp_path / "loose", pin_base=True)
    with pytest.raises(InvalidInput, match="no extra nosql"):
        build_server_context(tmp_path / "bad", extras=["nosql"])
    with pytest.raises(InvalidInput, match="workers"):
        build_server_context(tmp_path / "bad", workers=0)
    with pytest.raises(AlreadyExists):
        build_server_context(tmp_path / "plain")
    assert not (tmp_path / "loose").exists() and not (tmp_path / "bad").exists()


@pytest.mark.timeout(900)
def test_the_server_image_builds(context: Path) -> None:
    reason = docker_ready(f"python:{PYTHON}-slim")
    if reason is not None:
        pytest.skip(reason)
    tag = "gnomon-test-image:server"
    try:
        config = docker_build(context, tag)
        assert config["User"] == "10001:10001"
        assert config["Entrypoint"] == ["tini", "--"]
        assert config["Cmd"][:2] == ["gnomon", "server"]  # type: ignore[index]
        pid1 = healthy_pid1(tag, 5000, {"GNOMON_ADMIN_PASSWORD": "a-test-password-1"})
        assert Path(pid1[0]).name == "tini" and pid1[2:4] == ["gnomon", "server"]
    finally:
        remove_image(tag)
