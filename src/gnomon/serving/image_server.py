"""A Docker build context for the tracking server: ``gnomon server`` under tini, as user 10001.

Nothing secret is written into it: the database, the artifact store and the first
administrator's password come from the environment the container is started with.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from gnomon._version import __version__
from gnomon.serving.image_context import check_choices, write_install, write_staged
from gnomon.serving.image_dockerfile import DOCKERIGNORE, HOME_DIR, UID, ImageSpec, render

PORT = 5000
TAG = f"gnomon-server:{__version__}"
# PostgreSQL for metadata, S3 for artifacts, Redis for online features: what a shared server uses.
SERVER_EXTRAS = ("postgres", "redis", "s3")


@dataclass(frozen=True, slots=True)
class ServerContext:
    """A written server build context (``requirements``: the lock's pins)."""

    path: Path
    requirements: list[str]
    wheel: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        """A suggested ``docker build -t`` tag."""
        return TAG


def build_server_context(
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    wheel: str | os.PathLike[str] | None = None,
    from_index: bool = False,
    extras: Sequence[str] = SERVER_EXTRAS,
    base_image: str | None = None,
    pin_base: bool = False,
    wheel_cache: Path | None = None,
) -> ServerContext:
    """Write a Docker build context running ``gnomon server`` into the new folder ``out``.

    Args:
        out: the folder to create; it must not exist or must be empty.
        workers: uvicorn worker processes in the container's command.
        wheel: a gnomon wheel to install (default: a wheel of the gnomon running here).
        from_index: install ``gnomon==<version>`` from the package index instead of a wheel.
        extras: the gnomon extras installed (default PostgreSQL, Redis and S3).
        base_image: the ``FROM`` image (default ``python:<major.minor>-slim``).
        pin_base: refuse a base image without a digest (``image@sha256:…``).
        wheel_cache: where built gnomon wheels are kept (default ``$GNOMON_HOME/cache/wheels``).

    Raises:
        InvalidInput: a bad wheel, extra, base image or worker count; an extra's libraries
            not installed here (the lock pins the installed versions).
        AlreadyExists: ``out`` is a non-empty folder.
        Unavailable: building the gnomon wheel failed.
    """
    choices = check_choices(
        workers=workers, wheel=wheel, from_index=from_index, extras=extras,
        base_image=base_image, pin_base=pin_base, wheel_cache=wheel_cache,
    )  # fmt: skip
    chosen, base = choices.extras, choices.base

    def write(folder: Path) -> ServerContext:
        title = f"gnomon build-image --server: gnomon {__version__} [{','.join(chosen)}]"
        installed = write_install(folder, choices.source, chosen, [], title)
        (folder / "Dockerfile").write_text(server_dockerfile(workers, installed.wheel, base))
        (folder / ".dockerignore").write_text(DOCKERIGNORE)
        (folder / "README.md").write_text(_readme(workers, base, chosen))
        return ServerContext(folder, installed.pins, installed.wheel, installed.warnings)

    return replace(write_staged(out, write), path=Path(out))


def server_dockerfile(workers: int, wheel: str | None, base: str) -> str:
    """The server image's Dockerfile; its settings are read from ``GNOMON_*`` at start."""
    labels = {
        "org.opencontainers.image.title": "gnomon tracking server",
        "org.opencontainers.image.version": __version__,
        "gnomon.version": __version__,
    }
    command = [
        "gnomon", "server", "--host", "0.0.0.0", "--port", str(PORT), "--workers", str(workers),
    ]  # fmt: skip
    return render(ImageSpec(base, labels, wheel, PORT, command))


def _readme(workers: int, base: str, extras: list[str]) -> str:
    return f"""\
# The gnomon tracking server

Built by `gnomon build-image --server` with gnomon {__version__} (extras: {", ".join(extras)}).

- image: `{base}`, tini as PID 1, user {UID}, `gnomon server` on port {PORT} with
  {workers} worker(s); `/healthz` is its health check
- no secret is in the image: every setting is a `GNOMON_*` variable given when it starts

## Build and run

```console
docker build -t {TAG} .
docker run --rm -p {PORT}:{PORT} \\
  -e GNOMON_URI=postgresql://gnomon@db/gnomon \\
  -e GNOMON_ARTIFACTS=s3://ml-artifacts \\
  -e GNOMON_ADMIN_PASSWORD \\
  {TAG}
```

Without `GNOMON_URI` the server keeps a SQLite file under `{HOME_DIR}` (mount a volume there
to keep it). Without `GNOMON_ADMIN_PASSWORD` the first start prints a one-time password for
`admin`. Run the worker from the same image: `docker run … {TAG} gnomon worker`.
"""


__all__ = ["SERVER_EXTRAS", "ServerContext", "build_server_context", "server_dockerfile"]
