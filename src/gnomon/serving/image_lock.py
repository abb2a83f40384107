"""``requirements.lock``: every package an image installs, each at one exact version.

The versions are the ones installed where ``gnomon build-image`` runs (what gnomon was tested
with here), except those the model recorded: a model is served with the libraries it was saved
with. The image installs the lock with ``pip install --no-deps`` and runs ``pip check``, so
nothing outside the lock is installed and a missing or clashing package fails the build.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from gnomon.errors import InvalidInput

# Images run Linux: a dependency marked for it (uvloop) is locked even when building elsewhere.
_IMAGE_PLATFORM = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}


@dataclass(frozen=True, slots=True)
class Lock:
    """The locked packages, ``name==version`` sorted by name, and anything worth a warning."""

    pins: list[str]
    warnings: list[str] = field(default_factory=list)

    def text(self, title: str) -> str:
        return (
            f"# {title}\n"
            "# Every package the image installs, at the version pinned here: installed with\n"
            "# pip install --no-deps -r requirements.lock, then checked with pip check.\n"
            + "".join(f"{pin}\n" for pin in self.pins)
        )


def extras_of_gnomon() -> set[str]:
    """The extras the installed gnomon declares (``sklearn``, ``s3``, ...)."""
    return set(_installed("gnomon", "build-image").metadata.get_all("Provides-Extra") or [])


def lock(extras: Iterable[str], pins: Sequence[str] = ()) -> Lock:
    """gnomon's dependencies with ``extras``, and ``pins`` (``name==version``, the model's),
    with everything they need in turn; gnomon itself is not in the lock.

    Raises:
        InvalidInput: a package to lock is not installed here (so neither its version nor its
            own dependencies are known), or a pin breaks a range another package declares.
    """
    fixed: dict[str, tuple[str, str]] = {
        canonicalize_name(r.name): (r.name, _version(r)) for r in map(_parse, pins)
    }
    chosen: dict[str, tuple[str, str]] = {}
    walked: dict[str, set[str]] = {}
    warnings: list[str] = []
    todo: list[tuple[str, frozenset[str], str]] = [("gnomon", frozenset(extras), "build-image")]
    todo += [(r.name, frozenset(r.extras), "the model") for r in map(_parse, pins)]
    while todo:
        name, wanted, needed_by = todo.pop()
        key = canonicalize_name(name)
        if key in walked and wanted <= walked[key]:
            continue
        walked[key] = walked.get(key, set()) | wanted
        dist = _installed(name, needed_by)
        if key != "gnomon" and key not in chosen:
            chosen[key] = fixed.get(key) or (dist.metadata["Name"], dist.version)
            if key in fixed and fixed[key][1] != dist.version:
                warnings.append(
                    f"the model pins {name}=={fixed[key][1]}; {dist.version} is installed here, "
                    "so its dependencies are locked from that version (pip check in the image "
                    "verifies them)"
                )
        for requirement in _requirements(dist, wanted):
            _check_range(requirement, fixed, dist.metadata["Name"])
            todo.append((requirement.name, frozenset(requirement.extras), dist.metadata["Name"]))
    pinned = sorted(chosen.items())
    return Lock([f"{name}=={version}" for _, (name, version) in pinned], warnings)


def _parse(pin: str) -> Requirement:
    try:
        return Requirement(pin)
    except InvalidRequirement as error:
        raise InvalidInput(f"'{pin}' is not a requirement: {error}") from None


def _version(requirement: Requirement) -> str:
    (spec,) = requirement.specifier  # the model's pins are checked to be one ==
    return spec.version


def _installed(name: str, needed_by: str) -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise InvalidInput(
            f"{name} (needed by {needed_by}) is not installed here: the lock pins the versions "
            "installed where build-image runs, so install it (or the gnomon extra that brings "
            "it) and build again",
            {"package": name},
        ) from None


def _requirements(
    dist: importlib.metadata.Distribution, extras: set[str] | frozenset[str]
) -> list[Requirement]:
    environment = cast("dict[str, str]", dict(default_environment()))
    environment.update(_IMAGE_PLATFORM)
    found = []
    for raw in dist.requires or []:
        requirement = Requirement(raw)
        marker = requirement.marker
        if marker is None or any(
            marker.evaluate({**environment, "extra": extra}) for extra in (extras or {""})
        ):
            found.append(requirement)
    return found


def _check_range(requirement: Requirement, fixed: dict[str, tuple[str, str]], parent: str) -> None:
    """A model pin outside a range gnomon or a library declares would fail in the image."""
    pinned = fixed.get(canonicalize_name(requirement.name))
    if pinned is not None and not requirement.specifier.contains(pinned[1], prereleases=True):
        raise InvalidInput(
            f"the model pins {pinned[0]}=={pinned[1]}, but {parent} needs "
            f"{requirement.name}{requirement.specifier}",
            {"requirement": str(requirement)},
        )


__all__ = ["Lock", "extras_of_gnomon", "lock"]
