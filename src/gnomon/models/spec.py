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
"""

from __future__ import annotations

import dataclasses
import os
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
        contract = data.get("contract")
        return cls(**{**data, "contract": Contract.from_dict(contract) if contract else None})


def read_spec(path: str | os.PathLike[str]) -> ModelSpec:
    """Read the ``gnomon-model.yaml`` of a model folder.

    Raises:
        NotFound: the folder has no ``gnomon-model.yaml``.
        InvalidInput: the file is not a valid model description.
    """
    file = Path(path) / MODEL_FILE
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
