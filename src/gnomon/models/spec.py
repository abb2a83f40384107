"""``gnomon-model.yaml``: the description of a model folder.

```yaml
format_version: 1
flavor: sklearn                 # picks the loader from gnomon's own closed list
loader: {file: model.joblib}    # that flavor's options
python_version: 3.11.7
requirements: [scikit-learn==1.5.0, numpy==2.0.0, ...]
source_run_id: null
training_data: null
created_at: '2025-01-01T00:00:00+00:00'
gnomon_version: 0.1.0
contract: {margin: 0.1, inputs: [...], outputs: [...]}
files: {model.joblib: <sha256 hex>}   # every file but this one
metadata: {}
```

Every path the file names (the keys of ``files``, and loader options that are paths:
``file``, ``path`` and keys ending in ``_file`` or ``_path``) must stay inside the folder:
relative, ``/``-separated, without ``..``; a loader path must also be one of the hashed
``files``. Reading the file refuses anything else, so no loader opens an unhashed file.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from gnomon.errors import InvalidInput, NotFound
from gnomon.models.contract import Contract

MODEL_FILE: Final = "gnomon-model.yaml"
FORMAT_VERSION: Final = 1


@dataclass(frozen=True)
class ModelSpec:
    """Everything ``gnomon-model.yaml`` says about a model folder."""

    flavor: str
    python_version: str
    requirements: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    loader: dict[str, Any] = field(default_factory=dict)
    contract: Contract | None = None
    source_run_id: str | None = None
    training_data: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    gnomon_version: str | None = None
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["contract"] = self.contract.to_dict() if self.contract else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(f"{MODEL_FILE} has unknown keys {sorted(unknown)}")
        version = int(data.get("format_version", FORMAT_VERSION))
        if version > FORMAT_VERSION:
            raise InvalidInput(
                f"{MODEL_FILE} has format_version {version}; this gnomon reads up to "
                f"{FORMAT_VERSION}: upgrade gnomon"
            )
        for key in ("flavor", "python_version"):
            if not data.get(key):
                raise InvalidInput(f"{MODEL_FILE} is missing '{key}'")
        files = _mapping(data, "files")
        loader = _mapping(data, "loader")
        _check_paths(files, loader)
        contract = data.get("contract")
        return cls(
            **{
                **data,
                "files": files,
                "loader": loader,
                "contract": Contract.from_dict(contract) if contract else None,
            }
        )


def check_model_path(path: object, where: str) -> str:
    """``path`` as the YAML names a file of the folder: relative, ``/``-separated, no ``..``.

    Raises:
        InvalidInput: anything else (an absolute path, ``..``, a drive, a backslash), naming it.
    """
    if not isinstance(path, str) or not _inside(path):
        raise InvalidInput(
            f"{MODEL_FILE}: {where} {path!r} must be a relative path inside the model folder "
            "(no absolute path, '..' or backslash)",
            {"path": str(path)},
        )
    return path


_DRIVE = re.compile(r"^[A-Za-z]:")


def _inside(path: str) -> bool:
    segments = path.split("/")
    return not (
        "\0" in path
        or "\\" in path
        or _DRIVE.match(path)
        or any(part in ("", ".", "..") for part in segments)
    )


def _is_path_option(key: str) -> bool:
    return key in ("file", "path") or key.endswith(("_file", "_path"))


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{MODEL_FILE}: '{key}' must be a mapping, got {type(value).__name__}")
    return value


def _check_paths(files: dict[str, Any], loader: dict[str, Any]) -> None:
    for name, digest in files.items():
        check_model_path(name, "file")
        if not isinstance(digest, str):
            raise InvalidInput(f"{MODEL_FILE}: the sha256 of file {name!r} must be a string")
    for key, value in loader.items():
        if not isinstance(key, str) or not _is_path_option(key):
            continue
        check_model_path(value, f"loader.{key}")
        if value not in files:
            raise InvalidInput(
                f"{MODEL_FILE}: loader.{key} {value!r} is not one of the model's hashed files",
                {"path": value},
            )


def read_spec(path: str | os.PathLike[str]) -> ModelSpec:
    """Read the ``gnomon-model.yaml`` of a model folder.

    Raises:
        NotFound: the folder has no ``gnomon-model.yaml``.
        InvalidInput: the file is not a valid model description.
    """
    file = Path(path) / MODEL_FILE
    if file.is_symlink():  # it could name any file the reader may open
        raise InvalidInput(f"{file} is a symbolic link; a model folder holds regular files only")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"no model at '{path}': it has no {MODEL_FILE}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{file} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{file} does not hold a mapping")
    try:
        return ModelSpec.from_dict(data)
    except TypeError as exc:  # a field of the wrong shape
        raise InvalidInput(f"{file} is not a valid model description: {exc}") from None


def write_spec(path: str | os.PathLike[str], spec: ModelSpec) -> None:
    """Write ``spec`` as the folder's ``gnomon-model.yaml``, e.g. after editing its contract.

    The YAML file is not in the hash list, so editing it leaves the model loadable.
    """
    folder = Path(path)
    text = yaml.safe_dump(spec.to_dict(), sort_keys=False, allow_unicode=True)
    # Write then rename, so a reader never sees half a file.
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{MODEL_FILE}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, folder / MODEL_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
