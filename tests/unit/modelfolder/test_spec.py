"""Every path gnomon-model.yaml names stays inside the model folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnomon.errors import InvalidInput
from gnomon.modelfolder import read_spec
from tests.fixtures.payloads import PICKLE, write_hostile_model


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"loader": {"file": "/etc/passwd"}}, "loader.file '/etc/passwd'"),
        ({"loader": {"file": "../model.joblib"}}, "'../model.joblib'"),
        ({"loader": {"file": "a/./model.joblib"}}, "'a/./model.joblib'"),
        ({"loader": {"file": "..\\model.joblib"}}, "model.joblib"),
        ({"loader": {"file": "C:model.joblib"}}, "'C:model.joblib'"),
        ({"loader": {"weights_path": "/srv/weights"}}, "loader.weights_path '/srv/weights'"),
        ({"loader": {"file": "unlisted.bin"}}, "'unlisted.bin' is not one of"),
        ({"files": {"/etc/passwd": "0" * 64}}, "file '/etc/passwd'"),
        ({"files": {"sub/../../x": "0" * 64}}, "'sub/../../x'"),
        ({"files": [PICKLE]}, "'files' must be a mapping"),
    ],
)
def test_paths_outside_the_folder_are_refused(
    tmp_path: Path, spec: dict[str, object], named: str
) -> None:
    folder = write_hostile_model(tmp_path / "model", tmp_path / "marker", **spec)

    with pytest.raises(InvalidInput) as caught:
        read_spec(folder)
    assert named in caught.value.message


def test_loader_options_that_are_not_paths_are_left_alone(tmp_path: Path) -> None:
    folder = write_hostile_model(
        tmp_path / "model", tmp_path / "marker", loader={"file": PICKLE, "kind": "/not/a/path"}
    )
    assert read_spec(folder).loader["kind"] == "/not/a/path"
