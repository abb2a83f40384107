"""What every build context holds besides its Dockerfile: gnomon's wheel and the lock; and how
a context is written, whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from gnomon._version import __version__
from gnomon.errors import AlreadyExists, InvalidInput
from gnomon.serving.image_dockerfile import base_image as base_image_of
from gnomon.serving.image_lock import extras_of_gnomon, lock

T = TypeVar("T")
WHEEL_CACHE = Path("cache") / "wheels"  # under GNOMON_HOME: built gnomon wheels, by content


@dataclass(frozen=True, slots=True)
class GnomonSource:
    """How the image gets gnomon: the ``wheel`` given, gnomon from the package index
    (``from_index``), or by default a wheel of the gnomon running here, kept in ``cache``."""

    wheel: Path | None = None
    from_index: bool = False
    cache: Path | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Choices:
    """What both images take, checked before anything is written: the worker count, the
    ``FROM`` image, the gnomon extras (sorted) and where gnomon comes from."""

    workers: int
    base: str
    extras: list[str]
    source: GnomonSource


@dataclass(frozen=True, slots=True)
class Installed:
    """What ``write_install`` wrote: the lock's pins, the wheel's file name (``None`` from the
    index) and the warnings worth showing."""

    pins: list[str]
    wheel: str | None
    warnings: list[str]


def check_choices(
    *,
    workers: int,
    wheel: str | os.PathLike[str] | None,
    from_index: bool,
    extras: Iterable[str],
    base_image: str | None,
    pin_base: bool,
    wheel_cache: Path | None,
) -> Choices:
    """The options of ``build_context`` and ``build_server_context``, checked.

    Raises:
        InvalidInput: a bad worker count, base image, extra or wheel.
    """
    if not 1 <= workers <= 64:
        raise InvalidInput(f"workers must be from 1 to 64, got {workers}")
    base = base_image_of(base_image, pin_base)
    chosen = check_extras(extras)
    return Choices(workers, base, chosen, gnomon_source(wheel, from_index, wheel_cache))


def gnomon_source(
    wheel: str | os.PathLike[str] | None, from_index: bool, cache: Path | None
) -> GnomonSource:
    """The choice checked; nothing is built yet.

    Raises:
        InvalidInput: both a wheel and the index, or a file that is not a gnomon wheel.
    """
    if wheel is not None and from_index:
        raise InvalidInput("pass --wheel or --from-index, not both")
    if wheel is None:
        return GnomonSource(from_index=from_index, cache=cache)
    path = _check_wheel(Path(wheel))
    version = path.name.split("-")[1]
    if version == __version__:
        return GnomonSource(path)
    return GnomonSource(
        path,
        warnings=[
            f"the wheel is gnomon {version}; the lock holds gnomon {__version__}'s "
            "dependencies (pip check in the image verifies them)"
        ],
    )


def _default_cache() -> Path:
    from gnomon.config import Settings

    return Settings().home / WHEEL_CACHE


def _check_wheel(wheel: Path) -> Path:
    if not wheel.is_file():
        raise InvalidInput(f"wheel '{wheel}' is not a file")
    if not (wheel.name.startswith("gnomon-") and wheel.name.endswith(".whl")):
        raise InvalidInput(f"'{wheel.name}' is not a gnomon wheel (gnomon-<version>-….whl)")
    return wheel


def check_extras(extras: Iterable[str]) -> list[str]:
    """``extras`` sorted, each one gnomon declares.

    Raises:
        InvalidInput: an extra gnomon does not declare.
    """
    known = extras_of_gnomon() - {"dev", "all"}
    chosen = sorted(set(extras))
    unknown = [extra for extra in chosen if extra not in known]
    if unknown:
        raise InvalidInput(
            f"gnomon has no extra {', '.join(unknown)}; choose from {', '.join(sorted(known))}",
            {"extras": unknown},
        )
    return chosen


def write_install(
    folder: Path, source: GnomonSource, extras: Sequence[str], pins: Sequence[str], title: str
) -> Installed:
    """``requirements.lock`` and, unless from the index, ``wheels/<gnomon wheel>``.

    Raises:
        InvalidInput: a package cannot be locked (see ``image_lock.lock``).
        Unavailable: building the gnomon wheel failed.
    """
    locked = lock(extras, pins)  # before the wheel: a model that cannot be locked fails fast
    (folder / "requirements.lock").write_text(locked.text(title))
    wheel = source.wheel
    if wheel is None and not source.from_index:
        from gnomon.serving.image_wheel import gnomon_wheel

        wheel = gnomon_wheel(source.cache or _default_cache())
    if wheel is not None:
        (folder / "wheels").mkdir(mode=0o755)
        shutil.copyfile(wheel, folder / "wheels" / wheel.name)
        (folder / "wheels" / wheel.name).chmod(0o644)
    return Installed(
        locked.pins, wheel.name if wheel else None, [*source.warnings, *locked.warnings]
    )


def write_staged(out: str | os.PathLike[str], write: Callable[[Path], T]) -> T:
    """Call ``write`` on a hidden folder beside ``out`` and rename it to ``out`` when it is done.

    Raises:
        AlreadyExists: ``out`` is a non-empty folder.
    """
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(f"'{target}' already exists and is not an empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private
        written = write(staging)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)  # the context appears whole or not at all
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


__all__ = [
    "WHEEL_CACHE",
    "Choices",
    "GnomonSource",
    "Installed",
    "check_choices",
    "check_extras",
    "gnomon_source",
    "write_install",
    "write_staged",
]
