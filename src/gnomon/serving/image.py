"""A Docker build context for one model: the model folder, pinned requirements, a Dockerfile.

The image runs ``gnomon serve /srv/model``, so it serves exactly the files that were
registered: the folder keeps its ``gnomon-model.yaml`` and every hash in it, and the server
checks them before it loads anything.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from gnomon._version import __version__
from gnomon.errors import AlreadyExists, InvalidInput

if TYPE_CHECKING:
    from gnomon.modelfolder import ModelSpec
    from gnomon.sdk import Client

UID = 10001  # fixed and numeric, so Kubernetes' runAsNonRoot can verify it
PORT = 8080
MODEL_DIR = "/srv/model"
HOME_DIR = "/var/lib/gnomon"

# The gnomon extra that installs each flavor's library; pyfunc needs only cloudpickle, a core
# dependency.
FLAVOR_EXTRAS = {
    "sklearn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "onnx": "onnx",
    "pytorch": "torch",
}

_EXACT_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]*\])?\s*==\s*[^\s=*;,]+$")


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """What the image holds: the URI asked for and, for ``models:/``, the resolved version."""

    uri: str
    name: str
    version: int | None = None

    @property
    def title(self) -> str:
        return self.name if self.version is None else f"{self.name} version {self.version}"

    @property
    def tag(self) -> str:
        """A suggested ``docker build -t`` tag (repository names are lowercase)."""
        repository = re.sub(r"[^a-z0-9._-]+", "-", self.name.lower()).strip("-._") or "model"
        return f"{repository}:{self.version if self.version is not None else 'latest'}"


@dataclass(frozen=True, slots=True)
class ImageContext:
    """A written build context."""

    path: Path
    model: ModelIdentity
    spec: ModelSpec
    requirements: list[str]
    warnings: list[str] = field(default_factory=list)


def build_context(
    uri: str,
    out: str | os.PathLike[str],
    *,
    client: Client | None = None,
    workers: int = 1,
    wheel: str | os.PathLike[str] | None = None,
) -> ImageContext:
    """Write a Docker build context serving the model ``uri`` names into the new folder ``out``.

    Args:
        uri: ``models:/name@alias``, ``models:/name/3``, ``runs:/<run id>/<path>`` or a local
            model folder. An alias is resolved once: the context holds that version.
        out: the folder to create; it must not exist or must be empty.
        client: the client that fetches ``models:/`` and ``runs:/`` URIs (default: the
            fluent API's).
        workers: uvicorn worker processes in the container's command.
        wheel: a gnomon wheel to install in the image instead of ``gnomon==<version>`` from
            PyPI.

    Returns:
        The context, with any warning worth showing (a Python version mismatch).

    Raises:
        NotFound: the model, version, alias or run does not exist.
        InvalidInput: a tampered model folder, a requirement that is not an exact pin, a bad
            wheel or worker count.
        AlreadyExists: ``out`` is a non-empty folder.
    """
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(f"'{target}' already exists and is not an empty folder")
    if not 1 <= workers <= 64:
        raise InvalidInput(f"workers must be from 1 to 64, got {workers}")
    wheel_path = _check_wheel(Path(wheel)) if wheel is not None else None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        context = _write(uri, staging, client, workers, wheel_path)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)  # the context appears whole or not at all
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return replace(context, path=target)


def _write(
    uri: str, folder: Path, client: Client | None, workers: int, wheel: Path | None
) -> ImageContext:
    from gnomon.modelfolder import read_spec

    folder.chmod(0o755)  # mkdtemp makes it private
    identity = _fetch(uri, folder / "model", client)
    spec = read_spec(folder / "model")
    requirements = image_requirements(spec, wheel.name if wheel else None)
    if wheel is not None:
        (folder / "wheels").mkdir(mode=0o755)
        shutil.copyfile(wheel, folder / "wheels" / wheel.name)
    (folder / "requirements.txt").write_text(
        f"# gnomon build-image: {identity.title} ({spec.flavor})\n" + "\n".join(requirements) + "\n"
    )
    (folder / "Dockerfile").write_text(dockerfile(identity, spec, workers, wheel is not None))
    (folder / ".dockerignore").write_text(DOCKERIGNORE)
    (folder / "README.md").write_text(_readme(identity, spec, workers))
    return ImageContext(folder, identity, spec, requirements, _warnings(spec))


def _fetch(uri: str, dst: Path, client: Client | None) -> ModelIdentity:
    """Copy the model folder into ``dst`` and check every file against its recorded hash."""
    from gnomon.modelfolder import read_spec
    from gnomon.modelfolder.hashing import verify_folder
    from gnomon.registry.fluent import fetch_model
    from gnomon.tracking import fluent

    with tempfile.TemporaryDirectory(prefix="gnomon-image-") as tmp:
        if uri.startswith(("models:/", "runs:/")):
            client = client or fluent.get_client()
            identity, exact = _identity(uri, client)
            source = fetch_model(exact, Path(tmp), client)
        else:
            source = _local_folder(uri)
            identity = ModelIdentity(uri, source.resolve().name or "model")
        # Hidden temporaries of an interrupted write_spec are not part of the model.
        shutil.copytree(source, dst, ignore=shutil.ignore_patterns(".gnomon-model.yaml.*"))
    _make_readable(dst)
    verify_folder(dst, read_spec(dst).files)  # a tampered source is refused, not packaged
    return identity


def _identity(uri: str, client: Client) -> tuple[ModelIdentity, str]:
    """The identity, and the URI to download: an alias is pinned to the version it names
    now, so the README and labels describe the files actually copied."""
    if uri.startswith("runs:/"):
        from gnomon.registry.uris import parse_run_uri

        run = parse_run_uri(uri)  # InvalidInput on a malformed one
        return ModelIdentity(uri, run.path.rpartition("/")[2]), uri
    from gnomon.serving.loading import pin

    name, version, exact = pin(uri, client)
    return ModelIdentity(uri, name, version), exact


def _local_folder(uri: str) -> Path:
    folder = Path(uri)
    if not folder.is_dir():
        raise InvalidInput(
            f"cannot package {uri!r}: expected models:/<name>/<version>, models:/<name>@<alias>, "
            "runs:/<run id>/<path> or a local model folder"
        )
    return folder


def _make_readable(folder: Path) -> None:
    # COPY keeps permission bits; a file private to the builder would be unreadable by the
    # image's non-root user. Nothing in the image needs to write the model.
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def image_requirements(spec: ModelSpec, wheel: str | None = None) -> list[str]:
    """gnomon with its flavor's extra, then the model's recorded requirements, all ``==``.

    Raises:
        InvalidInput: a recorded requirement is not an exact ``name==version`` pin.
    """
    extra = FLAVOR_EXTRAS.get(spec.flavor)
    name = f"gnomon[{extra}]" if extra else "gnomon"
    own = f"{name} @ file:///srv/wheels/{wheel}" if wheel else f"{name}=={__version__}"
    loose = [r for r in spec.requirements if not _EXACT_PIN.match(r.strip())]
    if loose:
        raise InvalidInput(
            f"the model's requirements {loose} are not exact pins (name==version); "
            "an image must install the versions the model was saved with: re-save it with "
            "requirements=['name==version', ...]",
            {"requirements": loose},
        )
    return [own, *sorted({r.strip() for r in spec.requirements}, key=str.lower)]


def _check_wheel(wheel: Path) -> Path:
    if not wheel.is_file():
        raise InvalidInput(f"wheel '{wheel}' is not a file")
    if not (wheel.name.startswith("gnomon-") and wheel.name.endswith(".whl")):
        raise InvalidInput(f"'{wheel.name}' is not a gnomon wheel (gnomon-<version>-….whl)")
    return wheel


def dockerfile(identity: ModelIdentity, spec: ModelSpec, workers: int, wheel: bool) -> str:
    """The Dockerfile text; the base image is the running interpreter's major.minor."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    labels = {
        "org.opencontainers.image.title": f"gnomon model {identity.title}",
        "gnomon.model.uri": identity.uri,
        "gnomon.model.name": identity.name,
        "gnomon.model.flavor": spec.flavor,
        "gnomon.version": __version__,
    }
    if identity.version is not None:
        labels["gnomon.model.version"] = str(identity.version)
    label_lines = " \\\n      ".join(f"{key}={_quote(value)}" for key, value in labels.items())
    copy_wheels = "COPY wheels/ /srv/wheels/\n" if wheel else ""
    command = [
        "gnomon", "serve", MODEL_DIR, "--host", "0.0.0.0", "--port", str(PORT),
        "--workers", str(workers), "--model-name", identity.name,
    ]  # fmt: skip
    if identity.version is not None:  # a folder does not know its registry identity
        command += ["--model-version", str(identity.version)]
    probe = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{PORT}/healthz', timeout=4)"
    )
    healthcheck = json.dumps(["python", "-c", probe])
    return f"""\
FROM python:{python}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PIP_ROOT_USER_ACTION=ignore \\
    GNOMON_HOME={HOME_DIR}

LABEL {label_lines}

# A fixed numeric UID, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
RUN groupadd --system --gid {UID} gnomon \\
 && useradd --system --uid {UID} --gid {UID} --home-dir {HOME_DIR} --create-home \\
    --shell /usr/sbin/nologin gnomon

WORKDIR /srv
# Dependencies before the model: a new model version reuses this layer.
COPY requirements.txt /srv/requirements.txt
{copy_wheels}RUN pip install --no-cache-dir -r /srv/requirements.txt

# Owned by root and read-only to the server: the files it verifies cannot be changed by it.
COPY model/ {MODEL_DIR}/

USER {UID}:{UID}
EXPOSE {PORT}
# Slim images have no curl; urlopen raises (exit 1) on anything but a 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\
    CMD {healthcheck}
CMD {json.dumps(command)}
"""


def _quote(value: str) -> str:
    # A double-quoted Dockerfile string; $ would otherwise be expanded as a build variable.
    return json.dumps(value).replace("$", "\\$")


# Only what the Dockerfile copies is sent to the daemon.
DOCKERIGNORE = """\
*
!Dockerfile
!requirements.txt
!model
!wheels
"""


def _readme(identity: ModelIdentity, spec: ModelSpec, workers: int) -> str:
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    run = f", run {spec.source_run_id}" if spec.source_run_id else ""
    return f"""\
# {identity.title}: a gnomon model image

Built by `gnomon build-image {identity.uri}` with gnomon {__version__}.

- model: {identity.title} ({spec.flavor} flavor{run}), saved with Python {spec.python_version}
- image: `python:{python}-slim`, user {UID}, `gnomon serve {MODEL_DIR}` on port {PORT} with
  {workers} worker(s)

| file | what |
| --- | --- |
| `model/` | the model folder; `gnomon serve` checks every file's sha256 before loading it |
| `requirements.txt` | gnomon and the model's libraries, pinned to the versions it was saved with |
| `Dockerfile` | dependencies first (cached), then the model, then a non-root user |

## Build and run

```console
docker build -t {identity.tag} .
docker run --rm -p {PORT}:{PORT} {identity.tag}
curl -s localhost:{PORT}/schema
curl -s localhost:{PORT}/predict -H 'content-type: application/json' -d '{{"records": [...]}}'
```

Prediction records are written under `{HOME_DIR}` inside the container: set
`GNOMON_ARTIFACTS` (and `GNOMON_S3_ENDPOINT_URL`) with `docker run -e` to keep them in shared
storage, or turn them off:
`docker run … {identity.tag} gnomon serve {MODEL_DIR} --host 0.0.0.0 --no-records`.
"""


def _warnings(spec: ModelSpec) -> list[str]:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    saved = ".".join(spec.python_version.split(".")[:2])
    if saved == running:
        return []
    return [
        f"the model was saved with Python {spec.python_version}; the image uses Python "
        f"{running} (run build-image with Python {saved} to match)"
    ]


__all__ = ["ImageContext", "ModelIdentity", "build_context", "dockerfile", "image_requirements"]
