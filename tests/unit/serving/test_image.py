"""The Docker build context: the model as registered, gnomon's wheel, a lock of every
dependency, a hardened image."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon._version import __version__
from gnomon.errors import AlreadyExists, InvalidInput, NotFound
from gnomon.modelfolder import load_folder, read_spec, save_model
from gnomon.serving.image import build_context
from gnomon.serving.image_dockerfile import HADOLINT_IGNORES
from tests.unit.serving.image_checks import (
    EXACT,
    INLINE_IGNORE,
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

DIGEST = "sha256:" + "ab" * 32


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


def test_the_context_holds_the_registered_version_and_predicts_the_same(
    registered: str, frame: pd.DataFrame, tmp_path: Path, wheel_cache: Path
) -> None:
    context = build_context(registered, tmp_path / "ctx", wheel_cache=wheel_cache)
    assert context.model.name == "churn" and context.model.version == 2
    assert sorted(p.name for p in (tmp_path / "ctx").iterdir()) == [
        ".dockerignore", "Dockerfile", "README.md", "model", "requirements.lock", "wheels",
    ]  # fmt: skip
    packaged = load_folder(tmp_path / "ctx" / "model")  # checks every file's sha256
    expected = gnomon.load_model("models:/churn/2").predict(frame)
    assert packaged.predict(frame).tolist() == expected.tolist()
    assert gnomon.load_model("models:/churn/1").predict(frame).tolist() != expected.tolist()
    readme = (tmp_path / "ctx" / "README.md").read_text()
    assert "churn version 2" in readme and "docker build -t churn:2 ." in readme


def test_the_context_holds_a_wheel_of_this_gnomon(
    registered: str, tmp_path: Path, wheel_cache: Path
) -> None:
    context = build_context(registered, tmp_path / "ctx", wheel_cache=wheel_cache)
    assert context.wheel == WHEEL
    with zipfile.ZipFile(tmp_path / "ctx" / "wheels" / WHEEL) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"gnomon-{__version__}.dist-info/METADATA").decode()
        packaged = wheel.read("gnomon/serving/image.py")
    # This gnomon's code, its web pages and migrations: the wheel is the package running here.
    assert packaged == Path(gnomon.__file__).with_name("serving").joinpath("image.py").read_bytes()
    assert {"gnomon/ui/templates/base.html", "gnomon/store/migrations/env.py"} <= names
    assert f"Version: {__version__}" in metadata


def test_the_lock_pins_every_package_the_model_and_gnomon_need(
    registered: str, tmp_path: Path, wheel_cache: Path
) -> None:
    import importlib.metadata

    import sklearn

    context = build_context(registered, tmp_path / "ctx", wheel_cache=wheel_cache)
    locked = lines(tmp_path / "ctx" / "requirements.lock")
    assert locked == context.requirements
    assert all(EXACT.match(pin) for pin in locked), [p for p in locked if not EXACT.match(p)]
    names = {pin.split("==")[0].lower().replace("_", "-") for pin in locked}
    assert "gnomon" not in names  # installed from the wheel, never looked up
    recorded = read_spec(tmp_path / "ctx" / "model").requirements
    assert set(recorded) <= set(locked) and f"scikit-learn=={sklearn.__version__}" in locked
    # gnomon's own dependencies and theirs, at the versions installed here.
    for name in ("fastapi", "sqlalchemy", "starlette", "scipy", "threadpoolctl", "uvloop"):
        assert f"{name}" in names, name
    assert f"fastapi=={importlib.metadata.version('fastapi')}" in locked
    assert not {"psycopg", "s3fs", "torch"} & names  # extras the image did not ask for


def test_the_dockerfile_installs_the_lock_then_the_wheel_with_no_index(
    registered: str, tmp_path: Path, wheel_cache: Path
) -> None:
    build_context(registered, tmp_path / "ctx", wheel_cache=wheel_cache)
    dockerfile = tmp_path / "ctx" / "Dockerfile"
    assert pip_installs(dockerfile) == [
        "pip install --no-cache-dir --no-deps -r /srv/requirements.lock",
        f"pip install --no-cache-dir --no-deps --no-index /srv/wheels/{WHEEL}",
    ]
    steps = instructions(dockerfile)
    assert (
        f"RUN pip install --no-cache-dir --no-deps --no-index /srv/wheels/{WHEEL} && pip check"
        in steps
    )
    assert steps.index("COPY requirements.lock /srv/requirements.lock") < steps.index(
        "COPY wheels/ /srv/wheels/"
    )
    assert "gnomon==" not in dockerfile.read_text()
    assert lines(tmp_path / "ctx" / ".dockerignore") == [
        "*", "!Dockerfile", "!requirements.lock", "!model", "!wheels",
    ]  # fmt: skip


def test_from_the_index_only_when_asked(registered: str, tmp_path: Path) -> None:
    context = build_context(registered, tmp_path / "ctx", from_index=True)
    assert context.wheel is None and not (tmp_path / "ctx" / "wheels").exists()
    assert pip_installs(tmp_path / "ctx" / "Dockerfile") == [
        "pip install --no-cache-dir --no-deps -r /srv/requirements.lock",
        f"pip install --no-cache-dir --no-deps gnomon=={__version__}",
    ]
    with pytest.raises(InvalidInput, match="not both"):
        build_context(registered, tmp_path / "both", from_index=True, wheel=tmp_path / "x.whl")


def test_the_dockerfile_is_slim_cached_non_root_under_tini_and_health_checked(
    registered: str, tmp_path: Path, wheel_cache: Path
) -> None:
    build_context(registered, tmp_path / "ctx", workers=3, wheel_cache=wheel_cache)
    text = (tmp_path / "ctx" / "Dockerfile").read_text()
    steps = instructions(tmp_path / "ctx" / "Dockerfile")
    assert steps[0] == f"FROM python:{PYTHON}-slim"
    assert "PYTHONDONTWRITEBYTECODE=1" in text and "PYTHONUNBUFFERED=1" in text
    installs = [i for i, s in enumerate(steps) if s.startswith("RUN pip install")]
    copy_model = steps.index("COPY model/ /srv/model/")
    assert len(installs) == 2 and max(installs) < copy_model
    tini = next(s for s in steps if "apt-get install" in s)
    assert "--no-install-recommends tini" in tini and "rm -rf /var/lib/apt/lists/*" in tini
    assert steps.index(tini) < min(installs)
    user = next(s for s in steps if s.startswith("USER "))
    assert user == "USER 10001:10001" and steps.index(user) > copy_model
    assert "EXPOSE 8080" in steps
    healthcheck = text[text.index("HEALTHCHECK") :]
    assert "/healthz" in healthcheck and '["python", "-c"' in healthcheck
    assert not any("curl" in s for s in steps)  # slim images have none
    assert steps[-2] == 'ENTRYPOINT ["tini", "--"]'  # PID 1 reaps the worker processes
    command = json.loads(steps[-1].removeprefix("CMD "))
    assert command == [
        "gnomon", "serve", "/srv/model", "--host", "0.0.0.0", "--port", "8080", "--workers", "3",
        "--model-name", "churn", "--model-version", "2",  # a folder has no registry identity
    ]  # fmt: skip
    assert 'gnomon.model.version="2"' in text


def test_the_dockerfile_passes_hadolint(registered: str, tmp_path: Path, wheel_cache: Path) -> None:
    build_context(registered, tmp_path / "ctx", wheel_cache=wheel_cache)
    dockerfile = tmp_path / "ctx" / "Dockerfile"
    status, findings = hadolint(dockerfile)
    assert (status, findings) == (0, [])
    # Only the rules named, with a reason, in image_dockerfile.HADOLINT_IGNORES are turned off.
    ignored = {
        rule for found in INLINE_IGNORE.findall(dockerfile.read_text()) for rule in found.split(",")
    }
    assert ignored == set(HADOLINT_IGNORES) and all(HADOLINT_IGNORES.values())


def test_hadolint_finds_what_it_should(tmp_path: Path) -> None:
    """The lint above can fail: the same checks find an unpinned, uncleaned apt install."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y tini\n")
    status, findings = hadolint(bad)
    assert status != 0 and {"DL3008", "DL3009", "DL3015"} <= {f["code"] for f in findings}


def test_the_base_image_can_be_pinned_by_digest(
    registered: str, tmp_path: Path, wheel_cache: Path
) -> None:
    pinned = f"python:{PYTHON}-slim@{DIGEST}"
    build_context(
        registered, tmp_path / "ctx", base_image=pinned, pin_base=True, wheel_cache=wheel_cache
    )
    assert instructions(tmp_path / "ctx" / "Dockerfile")[0] == f"FROM {pinned}"
    with pytest.raises(InvalidInput, match="has no digest") as refused:
        build_context(registered, tmp_path / "loose", pin_base=True)
    assert f"python:{PYTHON}-slim@sha256:<digest>" in refused.value.message
    with pytest.raises(InvalidInput, match="has no digest"):
        build_context(registered, tmp_path / "loose", base_image="python:3.11", pin_base=True)
    with pytest.raises(InvalidInput, match="64 hex"):
        build_context(registered, tmp_path / "bad", base_image="python:3.11@sha256:abc")
    with pytest.raises(InvalidInput, match="not an image reference"):
        build_context(registered, tmp_path / "bad", base_image="python 3.11")
    assert not (tmp_path / "loose").exists() and not (tmp_path / "bad").exists()


def test_model_files_are_readable_by_the_image_user(
    registered: str, tmp_path: Path, wheel_cache: Path
) -> None:
    build_context(registered, tmp_path / "ctx", wheel_cache=wheel_cache)
    for path in [
        *(tmp_path / "ctx" / "model").rglob("*"),
        *(tmp_path / "ctx" / "wheels").iterdir(),
    ]:
        assert path.stat().st_mode & 0o004, path


def test_a_given_wheel_is_copied_and_installed(registered: str, tmp_path: Path) -> None:
    wheel = tmp_path / f"gnomon-{__version__}-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    context = build_context(registered, tmp_path / "ctx", wheel=wheel)
    copied = tmp_path / "ctx" / "wheels" / wheel.name
    assert copied.read_bytes() == wheel.read_bytes() and context.wheel == wheel.name
    assert (
        f"--no-index /srv/wheels/{wheel.name}" in pip_installs(tmp_path / "ctx" / "Dockerfile")[1]
    )
    older = tmp_path / "gnomon-0.0.1-py3-none-any.whl"
    older.write_bytes(b"an older one")
    context = build_context(registered, tmp_path / "older", wheel=older)
    assert any("gnomon 0.0.1" in w for w in context.warnings)
    with pytest.raises(InvalidInput, match="not a gnomon wheel"):
        build_context(registered, tmp_path / "other", wheel=tmp_path / "ctx" / "Dockerfile")


def test_extras_join_the_flavor_extra(registered: str, tmp_path: Path, wheel_cache: Path) -> None:
    import importlib.metadata

    context = build_context(registered, tmp_path / "ctx", extras=["s3"], wheel_cache=wheel_cache)
    assert f"s3fs=={importlib.metadata.version('s3fs')}" in context.requirements
    assert any(p.startswith("scikit-learn==") for p in context.requirements)
    with pytest.raises(InvalidInput, match="no extra mongo"):
        build_context(registered, tmp_path / "bad", extras=["mongo"])


def test_a_local_folder_and_a_run_uri(
    registered: str, frame: pd.DataFrame, tmp_path: Path, wheel_cache: Path
) -> None:
    version = gnomon.get_client().registry.get_version("churn", "production")
    local = gnomon.get_client().registry.download_version("models:/churn/2", tmp_path / "dl")
    context = build_context(str(local), tmp_path / "from-folder", wheel_cache=wheel_cache)
    assert context.model.version is None
    assert load_folder(tmp_path / "from-folder" / "model").spec.files == read_spec(local).files
    context = build_context(version.source, tmp_path / "from-run", wheel_cache=wheel_cache)
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


def test_a_requirement_that_cannot_be_locked_is_refused(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    from sklearn.linear_model import LinearRegression

    folder = tmp_path / "model"
    model = LinearRegression().fit(frame, frame["x"])
    save_model(model, folder, input_example=frame, requirements=["gnomon-no-such-lib==1.0"])
    with pytest.raises(InvalidInput, match=r"gnomon-no-such-lib .*not installed here"):
        build_context(str(folder), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.timeout(900)
def test_the_image_builds(registered: str, tmp_path: Path, wheel_cache: Path) -> None:
    reason = docker_ready(f"python:{PYTHON}-slim")
    if reason is not None:
        pytest.skip(reason)
    build_context(registered, tmp_path / "ctx", wheel_cache=wheel_cache)
    tag = "gnomon-test-image:churn-2"
    try:
        config = docker_build(tmp_path / "ctx", tag)
        assert config["User"] == "10001:10001"
        assert config["Entrypoint"] == ["tini", "--"]
        pid1 = healthy_pid1(tag, 8080)  # the model server answers; tini reaps its workers
        assert Path(pid1[0]).name == "tini" and pid1[2:4] == ["gnomon", "serve"]
    finally:
        remove_image(tag)
