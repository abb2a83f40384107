"""A Docker build context for one model: the model folder, gnomon's wheel, a lock of every
dependency, a Dockerfile.

The image runs ``gnomon serve /srv/model``, so it serves exactly the files that were
registered: the folder keeps its ``gnomon-model.yaml`` and every hash in it, and the server
checks them before it loads anything.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from gnomon._version import __version__
from gnomon.errors import InvalidInput
from gnomon.serving.image_context import Choices, check_choices, write_install, write_staged
from gnomon.serving.image_dockerfile import DOCKERIGNORE, HOME_DIR, UID, ImageSpec, render

if TYPE_CHECKING:
    from gnomon.modelfolder import ModelSpec
    from gnomon.sdk import Client

PORT = 8080
MODEL_DIR = "/srv/model"

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
    """A written build context: ``requirements`` are the lock's pins; ``wheel`` is the gnomon
    wheel's file name in ``wheels/`` (``None`` when gnomon comes from the index)."""

    path: Path
    model: ModelIdentity
    spec: ModelSpec
    requirements: list[str]
    wheel: str | None = None
    warnings: list[str] = field(default_factory=list)


def build_context(
    uri: str,
    out: str | os.PathLike[str],
    *,
    client: Client | None = None,
    workers: int = 1,
    wheel: str | os.PathLike[str] | None = None,
    from_index: bool = False,
    extras: Sequence[str] = (),
    base_image: str | None = None,
    pin_base: bool = False,
    wheel_cache: Path | None = None,
) -> ImageContext:
    """Write a Docker build context serving the model ``uri`` names into the new folder ``out``.

    Args:
        uri: ``models:/name@alias``, ``models:/name/3``, ``runs:/<run id>/<path>`` or a local
            model folder. An alias is resolved once: the context holds that version.
        out: the folder to create; it must not exist or must be empty.
        client: the client that fetches ``models:/`` and ``runs:/`` URIs (default: the
            fluent API's).
        workers: uvicorn worker processes in the container's command.
        wheel: a gnomon wheel to install (default: a wheel of the gnomon running here).
        from_index: install ``gnomon==<version>`` from the package index instead of a wheel.
        extras: gnomon extras besides the flavor's (``s3`` to keep records in S3).
        base_image: the ``FROM`` image (default ``python:<major.minor>-slim``).
        pin_base: refuse a base image without a digest (``image@sha256:…``).
        wheel_cache: where built gnomon wheels are kept (default ``$GNOMON_HOME/cache/wheels``).

    Returns:
        The context, with any warning worth showing (a Python version mismatch).

    Raises:
        NotFound: the model, version, alias or run does not exist.
        InvalidInput: a tampered model folder, a requirement that is not an exact pin or
            cannot be locked, a bad wheel, extra, base image or worker count.
        AlreadyExists: ``out`` is a non-empty folder.
        Unavailable: building the gnomon wheel failed.
    """
    choices = check_choices(
        workers=workers, wheel=wheel, from_index=from_index, extras=extras,
        base_image=base_image, pin_base=pin_base, wheel_cache=wheel_cache,
    )  # fmt: skip
    context = write_staged(out, lambda folder: _write(uri, folder, client, choices))
    return replace(context, path=Path(out))


def _write(uri: str, folder: Path, client: Client | None, choices: Choices) -> ImageContext:
    from gnomon.modelfolder import read_spec

    identity = _fetch(uri, folder / "model", client)
    spec = read_spec(folder / "model")
    flavor = FLAVOR_EXTRAS.get(spec.flavor)
    installed = write_install(
        folder,
        choices.source,
        sorted({*choices.extras, *([flavor] if flavor else [])}),
        image_requirements(spec),
        f"gnomon build-image: {identity.title} ({spec.flavor})",
    )
    wheel, workers, base = installed.wheel, choices.workers, choices.base
    (folder / "Dockerfile").write_text(dockerfile(identity, spec, workers, wheel, base))
    (folder / ".dockerignore").write_text(DOCKERIGNORE)
    (folder / "README.md").write_text(_readme(identity, spec, workers, base, wheel))
    warnings = [*_warnings(spec), *installed.warnings]
    return ImageContext(folder, identity, spec, installed.pins, wheel, warnings)


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


def image_requirements(spec: ModelSpec) -> list[str]:
    """The model's recorded requirements, each an exact ``name==version`` pin, sorted.

    Raises:
        InvalidInput: a recorded requirement is not an exact ``name==version`` pin.
    """
    loose = [r for r in spec.requirements if not _EXACT_PIN.match(r.strip())]
    if loose:
        raise InvalidInput(
            f"the model's requirements {loose} are not exact pins (name==version); "
            "an image must install the versions the model was saved with: re-save it with "
            "requirements=['name==version', ...]",
            {"requirements": loose},
        )
    return sorted({r.strip() for r in spec.requirements}, key=str.lower)


def dockerfile(
    identity: ModelIdentity, spec: ModelSpec, workers: int, wheel: str | None, base: str
) -> str:
    """The model image's Dockerfile: ``gnomon serve`` of the copied folder under tini."""
    labels = {
        "org.opencontainers.image.title": f"gnomon model {identity.title}",
        "gnomon.model.uri": identity.uri,
        "gnomon.model.name": identity.name,
        "gnomon.model.flavor": spec.flavor,
        "gnomon.version": __version__,
    }
    if identity.version is not None:
        labels["gnomon.model.version"] = str(identity.version)
    command = [
        "gnomon", "serve", MODEL_DIR, "--host", "0.0.0.0", "--port", str(PORT),
        "--workers", str(workers), "--model-name", identity.name,
    ]  # fmt: skip
    if identity.version is not None:  # a folder does not know its registry identity
        command += ["--model-version", str(identity.version)]
    copy = (
        "# Owned by root and read-only to the server: the files it verifies cannot be changed\n"
        "# by it. Last, so a new version of the model rebuilds only this layer.\n"
        f"COPY model/ {MODEL_DIR}/\n"
    )
    return render(ImageSpec(base, labels, wheel, PORT, command, copy))


def _readme(
    identity: ModelIdentity, spec: ModelSpec, workers: int, base: str, wheel: str | None
) -> str:
    run = f", run {spec.source_run_id}" if spec.source_run_id else ""
    gnomon_from = f"`wheels/{wheel}`" if wheel else f"gnomon=={__version__} from the package index"
    wheels = "| `wheels/` | the gnomon wheel, installed with `--no-index` |\n" if wheel else ""
    return f"""\
# {identity.title}: a gnomon model image

Built by `gnomon build-image {identity.uri}` with gnomon {__version__}.

- model: {identity.title} ({spec.flavor} flavor{run}), saved with Python {spec.python_version}
- image: `{base}`, tini as PID 1, user {UID}, `gnomon serve {MODEL_DIR}` on port {PORT} with
  {workers} worker(s); gnomon from {gnomon_from}

| file | what |
| --- | --- |
| `model/` | the model folder; `gnomon serve` checks every file's sha256 before loading it |
| `requirements.lock` | every package the image installs, `==` pinned (the model's own pins win) |
{wheels}| `Dockerfile` | the lock first (cached), then gnomon, the model and a non-root user |

## Build and run

```console
docker build -t {identity.tag} .
docker run --rm -p {PORT}:{PORT} {identity.tag}
curl -s localhost:{PORT}/schema
curl -s localhost:{PORT}/predict -H 'content-type: application/json' -d '{{"records": [...]}}'
```

Prediction records are written under `{HOME_DIR}` inside the container: set
`GNOMON_ARTIFACTS` (and `GNOMON_S3_ENDPOINT_URL`; build with `--extra s3`) with `docker run -e`
to keep them in shared storage, or turn them off:
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


__all__ = [
    "HOME_DIR",
    "UID",
    "ImageContext",
    "ModelIdentity",
    "build_context",
    "dockerfile",
    "image_requirements",
]
