"""SHA-256 of a model folder's files, checked before anything in it is loaded.

Loading a pickle runs code, so a model file that changed since it was logged is refused.
The hashes in a folder's own ``gnomon-model.yaml`` only prove the folder is consistent:
whoever can rewrite a file can rewrite the YAML too. Logged and registered models are
therefore checked with :func:`verify_recorded` against digests the database recorded when
the model was stored, and a folder holds regular files only: a symbolic link could make a
hashed name read a file outside the folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from gnomon.errors import InvalidInput
from gnomon.modelfolder.spec import MODEL_FILE

_CHUNK = 1 << 20


def hash_folder(folder: Path) -> dict[str, str]:
    """``{relative posix path: sha256 hex}`` for every file but ``gnomon-model.yaml``.

    Raises:
        InvalidInput: the folder holds a symbolic link or something that is not a file.
    """
    return {name: sha256_file(folder / name) for name in _model_files(folder)}


def verify_folder(folder: Path, expected: dict[str, str]) -> None:
    """Raise :class:`InvalidInput` naming the first file that is missing, extra or changed,
    or a symbolic link in the folder."""
    present = set(_model_files(folder))
    for name in sorted(expected):
        if name not in present:
            raise InvalidInput(f"model file '{name}' is missing from '{folder}'", {"path": name})
        if sha256_file(folder / name) != expected[name]:
            raise InvalidInput(
                f"model file '{name}' in '{folder}' does not match its recorded sha256; "
                "it was changed after the model was saved",
                {"path": name},
            )
    extra = sorted(present - set(expected))
    if extra:
        more = f" and {len(extra) - 5} more" if len(extra) > 5 else ""  # not 100,000 names
        raise InvalidInput(
            f"model folder '{folder}' has files not in {MODEL_FILE}: {extra[:5]}{more}"
        )


def verify_recorded(
    folder: Path, files: dict[str, str], spec_sha256: str | None, spec_file: str = MODEL_FILE
) -> None:
    """Check a downloaded model folder against the digests the database recorded for it:
    every model file first (so a rewritten model file is the one named), then the YAML
    (``spec_file``: an MLflow model's is its ``MLmodel``).

    Raises:
        InvalidInput: a file is missing, extra or changed, the YAML changed, or nothing was
            recorded (``spec_sha256`` is ``None``).
    """
    if spec_sha256 is None:
        raise InvalidInput(
            f"model folder '{folder}' has no recorded sha256 digests, so it cannot be checked; "
            "register (or log) it again"
        )
    verify_folder(folder, files)
    if spec_digest(folder, spec_file) != spec_sha256:
        raise InvalidInput(
            f"{spec_file} in '{folder}' does not match the sha256 recorded when the model "
            "was stored; it was changed in storage",
            {"path": spec_file},
        )


def spec_digest(folder: Path, name: str = MODEL_FILE) -> str:
    """The sha256 of the folder's ``gnomon-model.yaml`` (or ``name``), refused when it is a
    link."""
    spec = folder / name
    if spec.is_symlink():
        raise _link(folder, name)
    if not spec.is_file():
        raise InvalidInput(f"model folder '{folder}' has no {name}", {"path": name})
    return sha256_file(spec)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _model_files(folder: Path) -> list[str]:
    names = []
    # os.walk without followlinks: a linked folder is listed as a link, never entered.
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        for name in dirs:
            if (base / name).is_symlink():
                raise _link(folder, (base / name).relative_to(folder).as_posix())
        for name in files:
            entry = base / name
            relative = entry.relative_to(folder).as_posix()
            if entry.is_symlink():
                raise _link(folder, relative)
            if not entry.is_file():
                raise InvalidInput(
                    f"model folder '{folder}' holds '{relative}', which is not a regular file",
                    {"path": relative},
                )
            names.append(relative)
    # Temporary files from an in-progress write_spec are not model files.
    return sorted(n for n in names if n != MODEL_FILE and not n.startswith(f".{MODEL_FILE}."))


def _link(folder: Path, relative: str) -> InvalidInput:
    return InvalidInput(
        f"model folder '{folder}' holds a symbolic link '{relative}'; a model folder holds "
        "regular files only",
        {"path": relative},
    )
