"""The Docker build context: the model as registered, pinned requirements, a hardened image."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon._version import __version__
from gnomon.errors import AlreadyExists, InvalidInput, NotFound
from gnomon.modelfolder import load_folder, read_spec, save_model
from gnomon.serving.image import build_context

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
EXACT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[a-z0-9,]+\])?==[^\s=*;,]+$")


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=60), "y": rng.normal(size=60)})


@pytest.fixture
def registered(gnomon_home: Path, frame: pd.DataFrame) -> str:
    """models:/churn@production, version 2 (version 1 is another model)."""
    from sklearn.linear_model import LogisticRegression

    for flip in (True, False):
        label = ((frame["x"] > 0) ^ flip).astype(int)
        with gnomon.start_run():
            uri = gnomon.log_model(
                LogisticRegression().fit(frame, label), "model", input_example=frame
            )
        gnomon.register_model(uri, "churn", alias="production")
    gnomon.flush()
    return "models:/churn@production"


def lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_the_context_holds_the_registered_version_and_predicts_the_same(
    registered: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    context = build_context(registered, tmp_path / "ctx")
    assert context.model.name == "churn" and context.model.version == 2
    assert sorted(p.name for p in (tmp_path / "ctx").iterdir()) == [
        ".dockerignore", "Dockerfile", "README.md", "model", "requirements.txt",
    ]  # fmt: skip
    packaged = load_folder(tmp_path / "ctx" / "model")  # checks every file's sha256
    expected = gnomon.load_model("models:/churn/2").predict(frame)
    assert packaged.predict(frame).tolist() == expected.tolist()
    assert gnomon.load_model("models:/churn/1").predict(frame).tolist() != expected.tolist()
    readme = (tmp_path / "ctx" / "README.md").read_text()
    assert "churn version 2" in readme and "docker build -t churn:2 ." in readme


def test_requirements_are_exact_pins_with_the_flavor_library(
    registered: str, tmp_path: Path
) -> None:
    import sklearn

    build_context(registered, tmp_path / "ctx")
    requirements = lines(tmp_path / "ctx" / "requirements.txt")
    assert all(EXACT.match(r) for r in requirements), requirements
    assert requirements[0] == f"gnomon[sklearn]=={__version__}"
    assert f"scikit-learn=={sklearn.__version__}" in requirements
    recorded = read_spec(tmp_path / "ctx" / "model").requirements
    assert set(recorded) <= set(requirements)


def test_the_dockerfile_is_slim_cached_non_root_and_health_checked(
    registered: str, tmp_path: Path
) -> None:
    build_context(registered, tmp_path / "ctx", workers=3)
    text = (tmp_path / "ctx" / "Dockerfile").read_text()
    steps = lines(tmp_path / "ctx" / "Dockerfile")
    assert steps[0] == f"FROM python:{PYTHON}-slim"
    assert "PYTHONDONTWRITEBYTECODE=1" in text and "PYTHONUNBUFFERED=1" in text
    install = next(i for i, s in enumerate(steps) if s.startswith("RUN pip install"))
    copy_model = next(i for i, s in enumerate(steps) if s.startswith("COPY model/"))
    assert "--no-cache-dir" in steps[install] and install < copy_model
    user = next(s for s in steps if s.startswith("USER "))
    assert user == "USER 10001:10001" and steps.index(user) > copy_model
    assert "EXPOSE 8080" in steps
    healthcheck = text[text.index("HEALTHCHECK") :]
    assert "/healthz" in healthcheck and '["python", "-c"' in healthcheck
    assert not any("curl" in s for s in steps)  # slim images have none
    command = json.loads(steps[-1].removeprefix("CMD "))
    assert command == [
        "gnomon", "serve", "/srv/model", "--host", "0.0.0.0", "--port", "8080", "--workers", "3",
        "--model-name", "churn", "--model-version", "2",  # a folder has no registry identity
    ]  # fmt: skip
    assert 'gnomon.model.version="2"' in text
    # Only what the Dockerfile copies is sent to the daemon.
    assert lines(tmp_path / "ctx" / ".dockerignore")[0] == "*"


def test_model_files_are_readable_by_the_image_user(registered: str, tmp_path: Path) -> None:
    build_context(registered, tmp_path / "ctx")
    for path in (tmp_path / "ctx" / "model").rglob("*"):
        assert path.stat().st_mode & 0o004, path


def test_a_wheel_replaces_the_pypi_pin(registered: str, tmp_path: Path) -> None:
    wheel = tmp_path / f"gnomon-{__version__}-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    build_context(registered, tmp_path / "ctx", wheel=wheel)
    copied = tmp_path / "ctx" / "wheels" / wheel.name
    assert copied.read_bytes() == wheel.read_bytes()
    requirements = lines(tmp_path / "ctx" / "requirements.txt")
    assert requirements[0] == f"gnomon[sklearn] @ file:///srv/wheels/{wheel.name}"
    assert all(EXACT.match(r) for r in requirements[1:])
    assert "COPY wheels/ /srv/wheels/" in (tmp_path / "ctx" / "Dockerfile").read_text()
    with pytest.raises(InvalidInput, match="not a gnomon wheel"):
        build_context(registered, tmp_path / "other", wheel=tmp_path / "ctx" / "Dockerfile")


def test_a_local_folder_and_a_run_uri(registered: str, frame: pd.DataFrame, tmp_path: Path) -> None:
    version = gnomon.get_client().registry.get_version("churn", "production")
    local = gnomon.get_client().registry.download_version("models:/churn/2", tmp_path / "dl")
    context = build_context(str(local), tmp_path / "from-folder")
    assert context.model.version is None
    assert load_folder(tmp_path / "from-folder" / "model").spec.files == read_spec(local).files
    context = build_context(version.source, tmp_path / "from-run")
    assert context.model.uri == version.source and context.model.name == "model"
    assert (tmp_path / "from-run" / "model" / "gnomon-model.yaml").is_file()


def test_refusals(registered: str, frame: pd.DataFrame, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(AlreadyExists):
        build_context(registered, tmp_path / "busy")
    with pytest.raises(NotFound, match="ghost"):
        build_context("models:/ghost@production", tmp_path / "ghost")
    assert not (tmp_path / "ghost").exists()  # nothing half-written is left
    with pytest.raises(InvalidInput, match="local model folder"):
        build_context(str(tmp_path / "nowhere"), tmp_path / "out")
    with pytest.raises(InvalidInput, match="workers"):
        build_context(registered, tmp_path / "out", workers=0)


def test_a_tampered_folder_is_not_packaged(
    registered: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    local = gnomon.get_client().registry.download_version("models:/churn/2", tmp_path / "dl")
    (local / "model.joblib").write_bytes(b"changed")
    with pytest.raises(InvalidInput, match="sha256"):
        build_context(str(local), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_loose_requirement_is_refused(frame: pd.DataFrame, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    folder = tmp_path / "model"
    model = LinearRegression().fit(frame, frame["x"])
    save_model(model, folder, input_example=frame, requirements=["requests>=2"])
    with pytest.raises(InvalidInput, match="requests>=2"):
        build_context(str(folder), tmp_path / "out")


def _docker_ready() -> str | None:
    """Why a real image build cannot run here, or None when it can."""
    docker = shutil.which("docker")
    if docker is None:
        return "no docker CLI"
    if subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        return "no usable docker daemon"
    base = f"python:{PYTHON}-slim"
    found = subprocess.run([docker, "image", "inspect", base], capture_output=True, timeout=30)
    if found.returncode != 0:
        return f"base image {base} is not present (the test does not pull images)"
    if shutil.which("uv", path=str(Path(sys.executable).parent)) is None:
        return "no uv to build the gnomon wheel"
    return None


@pytest.mark.timeout(900)
def test_the_image_builds(registered: str, tmp_path: Path) -> None:
    reason = _docker_ready()
    if reason is not None:
        pytest.skip(reason)
    root = Path(__file__).resolve().parents[3]
    uv = str(Path(sys.executable).with_name("uv"))
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(root)],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("gnomon-*.whl"))
    build_context(registered, tmp_path / "ctx", wheel=wheel)
    tag = "gnomon-test-image:churn-2"
    try:
        subprocess.run(
            ["docker", "build", "--pull=false", "-t", tag, str(tmp_path / "ctx")],
            check=True,
            capture_output=True,
            timeout=840,
        )
        user = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Config.User}}", tag],
            check=True,
            capture_output=True,
            text=True,
        )
        assert user.stdout.strip() == "10001:10001"
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)
