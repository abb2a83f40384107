"""Records and outcomes written under a workspace's name (the layout before they were keyed by
id) move to the id's predictions store: confirmed before removed, idempotent, a clash kept."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon.config import Settings
from gnomon.errors import InvalidInput
from gnomon.predictions.legacy import adopt, adopt_once, legacy_store
from gnomon.predictions.storage import predictions_store
from gnomon.registry.entities import NewVersion
from tests.fixtures.old_predictions import files, joined, write_old_layout


def test_old_files_move_to_the_id_and_join_as_before(tmp_path: Path) -> None:
    root, workspace_id = str(tmp_path / "artifacts"), uuid.uuid4().hex
    old = legacy_store(root, "team-a")
    write_old_layout(old)
    before = files(old)
    assert {key.split("/")[0] for key in before} == {"predictions", "outcomes"}

    odd = ("not-an-id", "ghost")  # skipped, logged: nothing could read its records anyway
    done = adopt(root, [odd, (workspace_id, "team-a"), ("default", "default")])

    assert sorted(done.moved) == sorted(before) and not done.duplicates and not done.kept
    assert files(old) == [] and not (tmp_path / "artifacts/team-a/serving/predictions").exists()
    new = predictions_store(root, workspace_id)
    assert sorted(files(new)) == sorted(
        key.replace("predictions/", "records/", 1) for key in before
    )
    frame = joined(new)
    assert frame["request_id"].tolist() == ["r0", "r1", "r2"]
    assert frame["outcome"].tolist() == [1, None, 0]  # acknowledged outcomes are not lost
    again = adopt(root, [(workspace_id, "team-a")])
    assert (again.moved, again.duplicates, again.kept) == ([], [], [])
    assert joined(new)["outcome"].tolist() == [1, None, 0]


def test_a_file_already_there_with_the_same_bytes_is_only_removed(tmp_path: Path) -> None:
    """A move interrupted after its copy (or done by two processes at once) finishes."""
    root, workspace_id = str(tmp_path), uuid.uuid4().hex
    old = legacy_store(root, "team-a")
    write_old_layout(old)
    new = predictions_store(root, workspace_id)
    first = files(old, "outcomes")[0]
    new.put_bytes(old.get_bytes(first), first)  # outcomes/… keeps its name

    done = adopt(root, [(workspace_id, "team-a")])

    assert done.duplicates == [first] and first not in done.moved and not done.kept
    assert files(old) == []
    assert joined(new)["outcome"].tolist() == [1, None, 0]


def test_a_clash_with_other_bytes_keeps_both_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root, workspace_id = str(tmp_path), uuid.uuid4().hex
    old = legacy_store(root, "team-a")
    write_old_layout(old)
    new = predictions_store(root, workspace_id)
    clash = files(old, "predictions")[0]
    target = clash.replace("predictions/", "records/", 1)
    new.put_bytes(b"another file", target)

    with caplog.at_level(logging.WARNING, logger="gnomon.predictions.legacy"):
        done = adopt(root, [(workspace_id, "team-a")])

    assert done.kept == [clash] and clash not in done.moved
    assert files(old) == [clash]  # left in the old place, untouched
    assert new.get_bytes(target) == b"another file"
    assert any(clash in message and "holds other data" in message for message in caplog.messages)
    assert adopt(root, [(workspace_id, "team-a")]).kept == [clash]  # and still, next time


def test_a_workspace_named_dot_dot_is_not_followed_above_the_root(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    write_old_layout(legacy_store(str(root), ".."))  # what an old server wrote: above the root
    done = adopt(str(root), [(uuid.uuid4().hex, "..")])
    assert (done.moved, done.kept) == ([], [])
    assert files(legacy_store(str(root), "..")) != []


def test_adopt_once_checks_a_workspace_once_per_process(tmp_path: Path) -> None:
    root, workspace_id = str(tmp_path), uuid.uuid4().hex
    old = legacy_store(root, "team-b")
    write_old_layout(old)
    new = predictions_store(root, workspace_id, workspace_name="team-b")  # moves them
    assert files(old) == [] and len(joined(new)) == 3
    write_old_layout(old, "late")  # an old server still running: moved by the next process
    predictions_store(root, workspace_id, workspace_name="team-b")
    assert files(old) != []
    adopt_once(root, "team-b", predictions_store(str(tmp_path / "elsewhere"), workspace_id), None)
    assert files(old) == []  # another store: checked on its own


def test_embedded_records_include_what_was_written_under_the_name(gnomon_home: Path) -> None:
    client = gnomon.Client()
    registry = client.registry.service
    registry.create_version(client.scope, "churn", NewVersion("import:c", "/tmp/c", "ann"))
    client.deployments.create("web", "churn/1")
    write_old_layout(legacy_store(client.settings.artifact_root, client.settings.workspace))

    frame = client.deployments.records("web")

    assert frame["outcome"].tolist() == [1, None, 0]


class Doubler:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(frame["x"] * 2)


def test_a_model_server_moves_them_when_it_starts(gnomon_home: Path) -> None:
    from gnomon.serving.loading import ServeOptions, build_app

    with gnomon.start_run():
        uri = gnomon.log_model(Doubler(), "model", input_example=pd.DataFrame({"x": [1.0]}))
    gnomon.register_model(uri, "doubler")
    client = gnomon.get_client()
    client.deployments.create("api", "doubler/1")
    settings = Settings()
    old = legacy_store(settings.artifact_root, settings.workspace)
    write_old_layout(old)

    build_app(ServeOptions(deployment="api"), settings)

    assert files(old) == []
    new = predictions_store(settings.artifact_root, client.scope.workspace)
    assert joined(new)["outcome"].tolist() == [1, None, 0]


def test_old_files_on_s3_move_too(s3_root: str, s3_server: str) -> None:
    workspace_id = uuid.uuid4().hex
    old = legacy_store(s3_root, "team-a", s3_server)
    write_old_layout(old)
    count = len(files(old))

    done = adopt(s3_root, [(workspace_id, "team-a")], s3_server)

    assert len(done.moved) == count and files(old) == []
    new = predictions_store(s3_root, workspace_id, s3_server)
    assert joined(new)["outcome"].tolist() == [1, None, 0]
    assert adopt(s3_root, [(workspace_id, "team-a")], s3_server).moved == []


@pytest.mark.parametrize("bad", ["../x", "Default", "a" * 31, "team-a", "", "0" * 32 + "/"])
def test_the_store_takes_only_a_workspace_id(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInput, match="is not a workspace id"):
        predictions_store(str(tmp_path), bad)
    predictions_store(str(tmp_path), "default")
    predictions_store(str(tmp_path), uuid.uuid4().hex)
