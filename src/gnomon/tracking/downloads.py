"""Writing a run's artifacts into a local folder without harm to what is there.

Whoever may write to a run chooses its artifact names, and the person downloading runs tools
in the folder afterwards. So a download never writes under a version-control folder (a
``.git/config`` naming an ``fsmonitor`` command runs it on the next ``git status``), never
replaces a file unless asked to, and writes nothing until every file has arrived: each is
downloaded into a staging folder inside the destination, checked to be one plain file, and
only then moved into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gnomon.artifacts.store import ArtifactInfo
from gnomon.errors import InvalidInput

# Folders whose configuration the tool run inside them obeys, and can make it run a command:
# git's config (core.fsmonitor, core.hooksPath) and Mercurial's hgrc ([hooks]).
_REPOSITORY_FOLDERS = frozenset({".git", ".hg"})
# Other spellings a filesystem takes for the same folder, which git refuses too: Windows'
# short names and its ignored trailing dots and spaces, and the code points macOS ignores.
_SHORT_NAMES = frozenset({"git~1", "hg~1"})
_IGNORED_BY_HFS = dict.fromkeys(
    [*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)
_STAGING_PREFIX = ".gnomon-download-"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one artifact file goes: ``relative`` to the destination folder."""

    artifact: ArtifactInfo
    relative: PurePosixPath


def check_not_repository(path: str) -> None:
    """Refuse a path with a segment that names a version-control folder (any letter case).

    Raises:
        InvalidInput: naming the path and the segment.
    """
    for segment in path.replace("\\", "/").split("/"):
        if _is_repository_folder(segment):
            raise InvalidInput(
                f"refusing to download {path!r}: files under a {segment!r} folder configure a "
                f"repository and can make its tools run commands; read one with "
                f"'gnomon runs artifacts show'",
                {"path": path},
            )


def plan(
    files: Sequence[ArtifactInfo], base: str, dest: Path, *, overwrite: bool
) -> list[Placement]:
    """Each file's place below ``dest``: its path below the folder ``base``.

    Raises:
        InvalidInput: a path under a version-control folder, a place taken by a folder or
            below a file, or (without ``overwrite``) files that exist already.
    """
    placements: list[Placement] = []
    taken: list[str] = []
    for file in files:
        check_not_repository(file.path)
        relative = PurePosixPath(file.path[len(base) + 1 :] if base else file.path)
        target = dest / relative
        _check_parents(dest, relative, file.path)
        if os.path.lexists(target):
            if target.is_dir() and not target.is_symlink():
                raise InvalidInput(f"cannot write {file.path!r}: {str(target)!r} is a folder")
            taken.append(str(target))
        placements.append(Placement(file, relative))
    if taken and not overwrite:
        which = f"{taken[0]!r} and {len(taken) - 1} more" if len(taken) > 1 else repr(taken[0])
        raise InvalidInput(
            f"{which} exist{'s' * (len(taken) == 1)} already: nothing was downloaded; pass "
            "--overwrite to replace what is there, or choose another --dest",
            {"existing": taken[:20]},
        )
    return placements


def place_all(
    download: Callable[[str, Path], Path],
    placements: Sequence[Placement],
    dest: Path,
    on_file: Callable[[ArtifactInfo], None],
) -> None:
    """Download every file into a staging folder in ``dest``, then move each into place.

    ``download(key, folder)`` writes the artifact ``key`` into ``folder`` and returns its path.

    Raises:
        InvalidInput: a file came back as something other than one plain file, or a local
            write failed. A failed download leaves none of the files in ``dest``.
    """
    try:
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=dest))
    except OSError as exc:
        raise InvalidInput(f"cannot write under {str(dest)!r}: {exc.strerror}") from exc
    try:
        staged: list[Path] = []
        for index, placement in enumerate(placements):
            staged.append(_stage(download, placement, staging / str(index)))
            on_file(placement.artifact)
        for placement, path in zip(placements, staged, strict=True):
            target = dest / placement.relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)  # a rename: a link in the way is replaced, not followed
    except OSError as exc:
        raise InvalidInput(f"cannot write under {str(dest)!r}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stage(download: Callable[[str, Path], Path], placement: Placement, folder: Path) -> Path:
    key = placement.artifact.path
    path = download(key, folder)
    # A server that lists a file may still send an archive of a folder in its place.
    if path.is_symlink() or not path.is_file():
        raise InvalidInput(f"the artifact {key!r} was listed as a file but did not arrive as one")
    return path


def _check_parents(dest: Path, relative: PurePosixPath, key: str) -> None:
    folder = dest
    for part in relative.parts[:-1]:
        folder = folder / part
        if os.path.lexists(folder) and not folder.is_dir():
            raise InvalidInput(f"cannot write {key!r}: {str(folder)!r} is a file, not a folder")


def _is_repository_folder(segment: str) -> bool:
    name = segment.translate(_IGNORED_BY_HFS).split(":")[0].rstrip(" .").casefold()
    return name in _REPOSITORY_FOLDERS or name in _SHORT_NAMES
