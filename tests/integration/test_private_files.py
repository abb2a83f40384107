"""Under a permissive umask, everything gnomon writes below GNOMON_HOME is its owner's alone:
the database and its -wal/-shm, artifacts, registered models, prediction records, tokens."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon.artifacts import open_artifact_store
from gnomon.client.credentials import save_token
from gnomon.predictions.entities import PredictionRecord
from gnomon.predictions.records import RecordWriter


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_everything_under_gnomon_home_is_private(umask: int, gnomon_home: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) % 3})
    model = LogisticRegression().fit(frame, (frame["x"] > 9).astype(int))
    with gnomon.start_run():
        gnomon.log_param("alpha", 0.1)
        gnomon.log_text("secret notes", "notes/readme.txt")
        uri = gnomon.log_model(model, "model", input_example=frame)
    gnomon.register_model(uri, "private")
    gnomon.flush()
    save_token(gnomon_home, "http://127.0.0.1:5000", "gnm_secret")
    records = RecordWriter(open_artifact_store(str(gnomon_home / "artifacts")))
    records.submit([PredictionRecord("r1", 0, "d", "private", 1, {"x": 1.0}, 0, 0.1)])
    records.close()

    modes = _modes(gnomon_home)
    names = {path.name for path in modes}
    assert {"gnomon.db", "gnomon.db-wal", "gnomon.db-shm", "credentials"} <= names
    assert {"readme.txt", "gnomon-model.yaml"} <= names  # the run's and the registry's copy
    assert any(path.suffix == ".parquet" for path in modes)
    loose = {str(path): oct(mode) for path, mode in modes.items() if mode != _private(path)}
    assert loose == {}


def _modes(root: Path) -> dict[Path, int]:
    found = {root: stat.S_IMODE(root.stat().st_mode)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            found[path] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _private(path: Path) -> int:
    return 0o700 if path.is_dir() else 0o600
