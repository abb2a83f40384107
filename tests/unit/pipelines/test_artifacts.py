"""Step outputs as content-addressed bytes, and what makes up a step's cache key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from gnomon.errors import InvalidInput, NotFound
from gnomon.pipelines.materialize import decode, encode
from gnomon.pipelines.objects import LocalObjects, ObjectsAddress
from gnomon.pipelines.runner import cache_key
from gnomon.pipelines.spec import Node, StepSpec


def _round_trip(value: object, tmp_path: Path) -> object:
    encoded = encode(value)
    objects = LocalObjects(tmp_path / "objects")
    digest = objects.put(encoded.data)
    path = objects.local_file(digest) if encoded.kind == "file" else None
    return decode(encoded.kind, objects.get(digest), path)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ({"a": [1, 2.5, None, "x"]}, "json"),
        (3, "json"),
        ({1: "not a json key"}, "pickle"),
        (float("nan"), "pickle"),
        ({1, 2}, "pickle"),
    ],
)
def test_values_are_json_when_they_can_be_and_pickled_otherwise(
    value: object, kind: str, tmp_path: Path
) -> None:
    assert encode(value).kind == kind
    back = _round_trip(value, tmp_path)
    if value == value:  # NaN never equals itself
        assert back == value


def test_tables_arrays_and_files_keep_their_type(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    assert encode(frame).kind == "parquet/pandas"
    pd.testing.assert_frame_equal(_round_trip(frame, tmp_path), frame)
    table = pa.table({"x": [1, 2]})
    assert _round_trip(table, tmp_path).equals(table)
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    back = _round_trip(array, tmp_path)
    assert back.dtype == np.float32 and (back == array).all()
    source = tmp_path / "report.txt"
    source.write_text("hello")
    copied = _round_trip(source, tmp_path)
    assert isinstance(copied, Path) and copied.read_text() == "hello" and copied != source
    with pytest.raises(InvalidInput, match="not a file"):
        encode(tmp_path)


def test_equal_outputs_are_stored_once_and_equal_tables_hash_equal(tmp_path: Path) -> None:
    objects = LocalObjects(tmp_path)
    one = objects.put(encode(pd.DataFrame({"x": [1, 2]})).data)
    two = objects.put(encode(pd.DataFrame({"x": [1, 2]})).data)
    assert one == two
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_a_damaged_or_missing_object_reads_as_absent(tmp_path: Path) -> None:
    objects = LocalObjects(tmp_path)
    digest = objects.put(b"content")
    assert objects.exists(digest, 7)
    objects.path(digest).write_bytes(b"CONTENT")  # same size, other bytes
    assert not objects.has(digest)
    with pytest.raises(NotFound, match="damaged"):
        objects.get(digest)
    objects.path(digest).unlink()
    assert not objects.exists(digest, 7)
    with pytest.raises(NotFound):
        objects.get("../../etc/passwd")


def test_the_address_opens_the_workspace_folder(tmp_path: Path) -> None:
    objects = ObjectsAddress(str(tmp_path), "ws1").open()
    assert isinstance(objects, LocalObjects)
    assert objects.root == tmp_path / "ws1" / "pipelines" / "objects"


def test_the_cache_key_changes_with_each_of_its_parts() -> None:
    step = StepSpec("train", "m:train", code_hash="c1")
    node = Node("train", step, {})
    base = cache_key(node, {"data": "d1"}, {"depth": 3}, {"numpy": "2.0"})
    assert base == cache_key(node, {"data": "d1"}, {"depth": 3}, {"numpy": "2.0"})
    other_code = Node("train", StepSpec("train", "m:train", code_hash="c2"), {})
    variants = [
        cache_key(other_code, {"data": "d1"}, {"depth": 3}, {"numpy": "2.0"}),
        cache_key(node, {"data": "d2"}, {"depth": 3}, {"numpy": "2.0"}),
        cache_key(node, {"data": "d1"}, {"depth": 4}, {"numpy": "2.0"}),
        cache_key(node, {"data": "d1"}, {"depth": 3}, {"numpy": "2.1"}),
    ]
    assert len({base, *variants}) == 5
    renamed = Node("train-2", step, {})  # the node's place in the DAG is not part of it
    assert cache_key(renamed, {"data": "d1"}, {"depth": 3}, {"numpy": "2.0"}) == base


def test_a_put_says_whether_the_content_is_new(tmp_path: Path) -> None:
    objects = LocalObjects(tmp_path)
    digest, fresh = objects.put_fresh(b"first")
    assert fresh and objects.get(digest) == b"first"
    assert objects.put_fresh(b"first") == (digest, False)
