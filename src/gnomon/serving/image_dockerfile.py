"""The Dockerfile both images share: a pinned base, tini as PID 1, the lock, then gnomon's
wheel with no index lookup, a fixed non-root user and a health check."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass

from gnomon._version import __version__
from gnomon.errors import InvalidInput

UID = 10001  # fixed and numeric, so Kubernetes' runAsNonRoot can verify it
HOME_DIR = "/var/lib/gnomon"
WHEELS_DIR = "/srv/wheels"

# hadolint rules the generated Dockerfiles turn off, each with the reason; a test lints them
# and checks that nothing else is ignored.
HADOLINT_IGNORES = {
    # Pin versions in apt-get install: tini's version is the one of the base image's Debian
    # release, fixed by pinning the base by digest (--pin-base); an apt version pin would break
    # the build whenever Debian rebuilds the package.
    "DL3008": "tini's version comes with the base image: pin the base by digest",
}

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REFERENCE = re.compile(r"^[a-z0-9][A-Za-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$")


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """What a Dockerfile installs and runs.

    ``wheel`` is the wheel's file name in the context's ``wheels/``; ``None`` installs
    ``gnomon==<version>`` from the package index (``--from-index``).
    """

    base: str
    labels: dict[str, str]
    wheel: str | None
    port: int
    command: list[str]
    after: str = ""  # Dockerfile lines after the installs (the model), so they stay cached


def default_base() -> str:
    """``python:<major.minor>-slim``: the Python running build-image, which wrote the pickles."""
    return f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


def base_image(image: str | None, pin: bool) -> str:
    """The base image, checked: with ``pin`` it must name a digest (``image@sha256:…``).

    Raises:
        InvalidInput: not an image reference, a malformed digest, or no digest with ``pin``.
    """
    chosen = image or default_base()
    name, _, digest = chosen.partition("@")
    if digest and not _DIGEST.match(digest):
        raise InvalidInput(f"base image {chosen!r}: the digest must be sha256:<64 hex digits>")
    if not _REFERENCE.match(chosen):
        raise InvalidInput(f"base image {chosen!r} is not an image reference (name[:tag][@digest])")
    if pin and not digest:
        raise InvalidInput(
            f"--pin-base: base image {chosen!r} has no digest; pass --base-image "
            f"{name}@sha256:<digest> (`docker buildx imagetools inspect {name}` shows it)",
            {"base_image": chosen},
        )
    return chosen


def render(spec: ImageSpec) -> str:
    """The Dockerfile text."""
    label_lines = " \\\n      ".join(f"{key}={_quote(value)}" for key, value in spec.labels.items())
    ignores = ",".join(HADOLINT_IGNORES)
    after = f"{spec.after}\n" if spec.after else ""
    probe = (
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{spec.port}/healthz', timeout=4)"
    )
    return f"""\
FROM {spec.base}

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PIP_ROOT_USER_ACTION=ignore \\
    GNOMON_HOME={HOME_DIR}

LABEL {label_lines}

# tini runs as PID 1: it reaps the server's worker processes and passes signals on.
# A fixed numeric UID, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
# hadolint ignore={ignores}
RUN apt-get update \\
 && apt-get install -y --no-install-recommends tini \\
 && rm -rf /var/lib/apt/lists/* \\
 && groupadd --system --gid {UID} gnomon \\
 && useradd --system --uid {UID} --gid {UID} --home-dir {HOME_DIR} --create-home \\
    --shell /usr/sbin/nologin gnomon

WORKDIR /srv
# Every dependency at its locked version, and nothing the lock does not name (--no-deps).
COPY requirements.lock /srv/requirements.lock
RUN pip install --no-cache-dir --no-deps -r /srv/requirements.lock
{_install_gnomon(spec.wheel)}
{after}USER {UID}:{UID}
EXPOSE {spec.port}
# Slim images have no curl; urlopen raises (exit 1) on anything but a 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\
    CMD {json.dumps(["python", "-c", probe])}
ENTRYPOINT ["tini", "--"]
CMD {json.dumps(spec.command)}
"""


def _install_gnomon(wheel: str | None) -> str:
    if wheel is None:
        return (
            "# gnomon from the package index (--from-index), its dependencies from the lock.\n"
            f"RUN pip install --no-cache-dir --no-deps gnomon=={__version__} \\\n"
            " && pip check\n"
        )
    return (
        "# gnomon from the wheel in this context: no package index is asked for gnomon.\n"
        f"COPY wheels/ {WHEELS_DIR}/\n"
        f"RUN pip install --no-cache-dir --no-deps --no-index {WHEELS_DIR}/{wheel} \\\n"
        " && pip check\n"
    )


def _quote(value: str) -> str:
    # A double-quoted Dockerfile string; $ would otherwise be expanded as a build variable.
    return json.dumps(value).replace("$", "\\$")


# Only what a Dockerfile copies is sent to the daemon.
DOCKERIGNORE = """\
*
!Dockerfile
!requirements.lock
!model
!wheels
"""

__all__ = ["HADOLINT_IGNORES", "ImageSpec", "base_image", "default_base", "render"]
