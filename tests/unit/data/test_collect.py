"""``gnomon data gc``: content no version names is removed once past the grace period; what a
version names, what was stored or reused within the grace period, and every byte of every
version stay; the grace period is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

import gnomon
from gnomon.data.service import DatasetService
from gnomon.errors import InvalidInput
from tests.fixtures.cli import ok, ok_json
from tests.unit.data.test_versions import make_folder, stored_objects


@pytest.fixture
def service(gnomon_home: Path) -> DatasetService:
    return gnomon.get_client()._services.get(DatasetService)


def _orphan(service: DatasetService, tmp_path: Path, content: bytes) -> str:
    """An object stored as an upload to a server stores it, before any version names it."""
    from gnomon.data.hashing import digest_file

    path = tmp_path / f"upload-{len(content)}.bin"
    path.write_bytes(content)
    digest = digest_file(path)
    service.put_object(gnomon.get_client().scope, digest, path)
    return digest


def test_unnamed_objects_past_the_grace_period_are_removed(
    service: DatasetService, gnomon_home: Path, tmp_path: Path
) -> None:
    client = gnomon.get_client()
    source = make_folder(tmp_path / "src", {"a.bin": b"a" * 100, "b.bin": b"b" * 50})
    client.datasets.add(source, "raw")
    _orphan(service, tmp_path, b"never versioned" * 10)
    assert len(stored_objects(gnomon_home)) == 3

    kept = client.datasets.collect()  # stored a moment ago: within a day's grace
    assert (kept.objects, kept.manifests) == (0, 1)
    counted = client.datasets.collect(grace_s=0, dry_run=True)
    assert (counted.objects, counted.bytes, counted.dry_run) == (1, 150, True)
    assert len(stored_objects(gnomon_home)) == 3
    removed = client.datasets.collect(grace_s=0)
    assert (removed.objects, removed.bytes) == (1, 150)
    assert len(stored_objects(gnomon_home)) == 2
    out = client.datasets.checkout("raw@1", tmp_path / "out")
    assert (out / "a.bin").read_bytes() == b"a" * 100 and (out / "b.bin").read_bytes() == b"b" * 50
    assert client.datasets.collect(grace_s=0).objects == 0


def test_an_object_reused_by_an_add_is_kept_and_stays_readable(
    service: DatasetService, gnomon_home: Path, tmp_path: Path
) -> None:
    client = gnomon.get_client()
    orphan = b"uploaded first, versioned later" * 10
    _orphan(service, tmp_path, orphan)
    with service.store.db.write() as conn:  # uploaded two hours ago, never versioned since
        conn.exec_driver_sql("UPDATE dataset_objects SET stored_time = stored_time - 7200000")
    # An add that finds the object stored marks it used: gc's grace period covers it now.
    client.datasets.add(make_folder(tmp_path / "src", {"late.bin": orphan}), "late")
    with service.store.db.write() as conn:  # its version not named yet, as in mid-add
        conn.exec_driver_sql("DELETE FROM dataset_versions")
    assert client.datasets.collect(grace_s=3600).objects == 0
    assert len(stored_objects(gnomon_home)) == 1


@pytest.mark.parametrize("grace", [-1.0, float("nan"), float("inf"), 1e12])
def test_a_grace_period_out_of_range_is_refused(service: DatasetService, grace: float) -> None:
    with pytest.raises(InvalidInput, match="grace period"):
        gnomon.get_client().datasets.collect(grace_s=grace)


def test_gc_from_the_command_line(service: DatasetService, tmp_path: Path) -> None:
    _orphan(service, tmp_path, b"x" * 2048)
    assert "would remove 0 objects" in ok("data", "gc", "--dry-run")
    found = ok_json("data", "gc", "--older-than", "0s", "--dry-run")
    assert found["objects"] == 1 and found["dry_run"]
    assert "removed 1 object (2.0 KiB)" in ok("data", "gc", "--older-than", "0")
