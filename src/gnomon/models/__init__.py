"""Models as folders: a ``gnomon-model.yaml`` and the model's files.

``save_model`` writes a folder for any supported flavor (``FLAVORS``) with the model's input
contract, pinned requirements and the sha256 of every file; ``load_model`` checks those hashes
and returns a :class:`LoadedModel` whose ``predict`` takes a DataFrame, a dict of columns,
a list of records or a NumPy array. Importing this package loads none of the ML libraries,
nor NumPy or pandas: each flavor imports its library when it is used.
"""

from __future__ import annotations

from gnomon.models.contract import ColumnSpec, Contract
from gnomon.models.flavors import FLAVORS
from gnomon.models.folder import load_model, save_model
from gnomon.models.infer import infer_contract
from gnomon.models.loaded import LoadedModel
from gnomon.models.spec import MODEL_FILE, ModelSpec, read_spec, write_spec

__all__ = [
    "FLAVORS",
    "MODEL_FILE",
    "ColumnSpec",
    "Contract",
    "LoadedModel",
    "ModelSpec",
    "infer_contract",
    "load_model",
    "read_spec",
    "save_model",
    "write_spec",
]
