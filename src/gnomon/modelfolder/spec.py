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

from gnomon.checks import shown
from gnomon.errors import InvalidInput, NotFound
from gnomon.modelfolder.contract import Contract
from gnomon.modelfolder.spec_yaml import MAX_SPEC_BYTES, dump_yaml, load_yaml

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
        # Field by field, not dataclasses.asdict: a deep copy of what a YAML file built is
        # work an attacker sizes; the dump only reads the values.
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["contract"] = self.contract.to_dict() if self.contract else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        """Check every key's type and value; one ``InvalidInput`` names the first bad key."""
        if not isinstance(data, dict):
            raise InvalidInput(f"{MODEL_FILE} must hold a mapping, got {type(data).__name__}")
        unknown = sorted(map(shown, set(data) - _FIELDS))
        if unknown:
            raise InvalidInput(f"{MODEL_FILE} has unknown keys {_few(unknown)}")
        version = _format_version(data.get("format_version", FORMAT_VERSION))
        files, loader = _mapping(data, "files"), _mapping(data, "loader")
        _check_paths(files, loader)
        contract = data.get("contract")
        if contract is not None and not isinstance(contract, dict):
            raise InvalidInput(
                f"{MODEL_FILE}: 'contract' must be a mapping, got {type(contract).__name__}"
            )
        return cls(
            flavor=_text(data, "flavor", required=True),
            python_version=_text(data, "python_version", required=True),
            requirements=_texts(data, "requirements"),
            files=files,
            loader=loader,
            contract=Contract.from_dict(contract) if contract else None,
            source_run_id=_text(data, "source_run_id"),
            training_data=_text(data, "training_data", _LONG_TEXT),
            metadata=_mapping(data, "metadata"),
            created_at=_text(data, "created_at"),
            gnomon_version=_text(data, "gnomon_version"),
            format_version=version,
        )


_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(ModelSpec))
_SHORT_TEXT: Final = 200  # a flavor, a version, a timestamp, a run id
_LONG_TEXT: Final = 4096  # a training data URI, a requirement
_MAX_TEXTS: Final = 1000  # requirements in one description
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _format_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(
            f"{MODEL_FILE}: 'format_version' must be a whole number from 1, got {shown(value)}"
        )
    if value > FORMAT_VERSION:
        raise InvalidInput(
            f"{MODEL_FILE} has format_version {value}; this gnomon reads up to "
            f"{FORMAT_VERSION}: upgrade gnomon"
        )
    return value


def _text(
    data: dict[str, Any], key: str, limit: int = _SHORT_TEXT, *, required: bool = False
) -> Any:
    value = data.get(key)
    if value is None and not required:
        return None
    if value is None or value == "":
        raise InvalidInput(f"{MODEL_FILE} is missing '{key}'")
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(
            f"{MODEL_FILE}: '{key}' must be text of 1 to {limit} characters, got {shown(value)}"
        )
    return value


def _texts(data: dict[str, Any], key: str) -> list[str]:
    # A requirement can be a PEP 508 direct reference (a git URL with a commit, a
    # subdirectory and a marker, or a wheel URL with its sha256): well past a short text.
    values = data.get(key) or []
    if (
        not isinstance(values, list)
        or len(values) > _MAX_TEXTS
        or not all(isinstance(v, str) and 0 < len(v) <= _LONG_TEXT for v in values)
    ):
        raise InvalidInput(
            f"{MODEL_FILE}: '{key}' must be a list of at most {_MAX_TEXTS} texts (each 1 to "
            f"{_LONG_TEXT} characters), got {shown(values)}"
        )
    return values


def _few(names: list[str], count: int = 5) -> str:
    """At most ``count`` names for a message: an attacker's 100,000 are not echoed back."""
    more = f" and {len(names) - count} more" if len(names) > count else ""
    return f"[{', '.join(names[:count])}]{more}"


def check_model_path(path: object, where: str) -> str:
    """``path`` as the YAML names a file of the folder: relative, ``/``-separated, no ``..``.

    Raises:
        InvalidInput: anything else (an absolute path, ``..``, a drive, a backslash), naming it.
    """
    if not isinstance(path, str) or not _inside(path):
        raise InvalidInput(
            f"{MODEL_FILE}: {where} {shown(path)} must be a relative path inside the model "
            "folder (no absolute path, '..' or backslash)",
            {"path": shown(path)},
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
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidInput(
            f"{MODEL_FILE}: '{key}' must be a mapping with text keys, got {shown(value)}"
        )
    return value


def _check_paths(files: dict[str, Any], loader: dict[str, Any]) -> None:
    for name, digest in files.items():
        check_model_path(name, "file")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise InvalidInput(
                f"{MODEL_FILE}: the sha256 of file {shown(name)} must be 64 lowercase hex "
                f"digits, got {shown(digest)}"
            )
    for key, value in loader.items():
        if not isinstance(key, str) or not _is_path_option(key):
            continue
        check_model_path(value, f"loader.{key}")
        if value not in files:
            raise InvalidInput(
                f"{MODEL_FILE}: loader.{key} {shown(value)} is not one of the model's hashed files",
                {"path": shown(value)},
            )


def read_spec(path: str | os.PathLike[str], *, label: str | None = None) -> ModelSpec:
    """Read the ``gnomon-model.yaml`` of a model folder.

    Args:
        path: the model folder.
        label: how errors name the file (a server passes one that does not show its own
            temporary folder); by default, its path.

    Raises:
        NotFound: the folder has no ``gnomon-model.yaml``.
        InvalidInput: the file is not a valid model description.
        PayloadTooLarge: the file is larger than a description can be (``MAX_SPEC_BYTES``).
    """
    file = Path(path) / MODEL_FILE
    label = label or str(file)
    if file.is_symlink():  # it could name any file the reader may open
        raise InvalidInput(f"{label} is a symbolic link; a model folder holds regular files only")
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_SPEC_BYTES + 1)  # never more: a too-large file is refused
    except FileNotFoundError:
        raise NotFound(f"no model at '{path}': it has no {MODEL_FILE}") from None
    except OSError as exc:  # a folder named like the file, an unreadable file
        raise InvalidInput(f"{label} cannot be read ({exc.strerror})") from None
    data = load_yaml(raw, label)
    if not isinstance(data, dict):
        raise InvalidInput(f"{label} does not hold a mapping")
    try:
        return ModelSpec.from_dict(data)
    except (InvalidInput, NotFound):
        raise
    except Exception as exc:  # a shape no check foresaw is still the file's fault
        raise InvalidInput(
            f"{label} is not a valid model description: {shown(str(exc), 200)}"
        ) from None


def write_spec(path: str | os.PathLike[str], spec: ModelSpec) -> None:
    """Write ``spec`` as the folder's ``gnomon-model.yaml``, e.g. after editing its contract.

    The YAML file is not in the hash list, so editing it leaves the model loadable.

    Raises:
        PayloadTooLarge, InvalidInput: ``read_spec`` would refuse the file written.
    """
    folder = Path(path)
    text = dump_yaml(spec.to_dict(), MODEL_FILE)
    # Write then rename, so a reader never sees half a file.
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{MODEL_FILE}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, folder / MODEL_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
