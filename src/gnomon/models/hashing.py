"""SHA-256 of a model folder's files, checked before anything in it is loaded.

Loading a pickle runs code, so a model file that changed since it was logged is refused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from gnomon.errors import InvalidInput
from gnomon.models.spec import MODEL_FILE

_CHUNK = 1 << 20


def hash_folder(folder: Path) -> dict[str, str]:
    """``{relative posix path: sha256 hex}`` for every file but ``gnomon-model.yaml``."""
    return {name: sha256_file(folder / name) for name in _model_files(folder)}


def verify_folder(folder: Path, expected: dict[str, str]) -> None:
    """Raise :class:`InvalidInput` naming the first file that is missing, extra or changed."""
    present = set(_model_files(folder))
    for name in sorted(expected):
        if name not in present:
            raise InvalidInput(f"model file '{name}' is missing from '{folder}'")
        if sha256_file(folder / name) != expected[name]:
            raise InvalidInput(
                f"model file '{name}' in '{folder}' does not match its recorded sha256; "
                "it was changed after the model was saved"
            )
    extra = sorted(present - set(expected))
    if extra:
        raise InvalidInput(f"model folder '{folder}' has files not in {MODEL_FILE}: {extra}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _model_files(folder: Path) -> list[str]:
    names = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    # Temporary files from an in-progress write_spec are not model files.
    return sorted(n for n in names if n != MODEL_FILE and not n.startswith(f".{MODEL_FILE}."))
