"""Models as folders: a ``gnomon-model.yaml`` and the model's files.

``save_model`` writes a folder for any supported flavor (``FLAVORS``) with the model's input
contract, pinned requirements and the sha256 of every file; ``load_folder`` checks those hashes
and returns a :class:`LoadedModel` whose ``predict`` takes a DataFrame, a dict of columns,
a list of records or a NumPy array. Importing this package loads none of the ML libraries,
nor NumPy or pandas: each flavor imports its library when it is used.
"""

from __future__ import annotations

from gnomon.modelfolder.contract import ColumnSpec, Contract
from gnomon.modelfolder.flavors import FLAVORS
from gnomon.modelfolder.folder import load_folder, save_model
from gnomon.modelfolder.infer import infer_contract
from gnomon.modelfolder.loaded import LoadedModel
from gnomon.modelfolder.spec import MODEL_FILE, ModelSpec, read_spec, write_spec

__all__ = [
    "FLAVORS",
    "MODEL_FILE",
    "ColumnSpec",
    "Contract",
    "LoadedModel",
    "ModelSpec",
    "infer_contract",
    "load_folder",
    "read_spec",
    "save_model",
    "write_spec",
]
