"""Dataset versions through ``client.datasets``, embedded, each test in its own GNOMON_HOME."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import gnomon
from gnomon.errors import InvalidInput, NotFound


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.Client()


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def stored_objects(home: Path) -> list[Path]:
    objects = home / "artifacts" / "default" / "datasets" / "objects"
    return sorted(p for p in objects.rglob("*") if p.is_file())


def test_add_checkout_is_byte_identical(client: gnomon.Client, tmp_path: Path) -> None:
    source = make_folder(
        tmp_path / "src",
        {"a.bin": os.urandom(3000), "deep/er/b.txt": b"hello\n", "empty": b"", "c": b"\0" * 9},
    )
    result = client.datasets.add(source, "raw", message="first")
    assert (result.created, result.version.version, result.version.files) == (True, 1, 4)
    assert result.version.bytes == 3000 + 6 + 0 + 9
    out = client.datasets.checkout("raw@1", tmp_path / "out")
    compared = filecmp.dircmp(source, out)
    assert not (compared.left_only or compared.right_only or compared.diff_files)
    for relative in ("a.bin", "deep/er/b.txt", "empty", "c"):
        assert (out / relative).read_bytes() == (source / relative).read_bytes()


def test_a_large_file_edited_in_place_after_its_add_leaves_the_version_as_it_was(
    client: gnomon.Client, tmp_path: Path
) -> None:
    # Large enough for direct I/O and a tail through the page cache (artifacts/filecopy.py);
    # a stored object never shares the user's inode, so writing into the file changes nothing.
    source = make_folder(tmp_path / "src", {"big.bin": os.urandom(3 * 2**20 + 4321)})
    original = (source / "big.bin").read_bytes()
    client.datasets.add(source, "raw")
    with (source / "big.bin").open("r+b") as handle:
        handle.write(b"\xff" * 4096)
    out = client.datasets.checkout("raw@1", tmp_path / "out")
    assert (out / "big.bin").read_bytes() == original


def test_unchanged_content_makes_no_version(client: gnomon.Client, tmp_path: Path) -> None:
    source = make_folder(tmp_path / "src", {"a": b"1", "b": b"2"})
    first = client.datasets.add(source, "raw")
    again = client.datasets.add(source, "raw")
    assert (again.created, again.version.version, again.new_objects) == (False, 1, 0)
    assert again.version.manifest_digest == first.version.manifest_digest
    assert [v.version for v in client.datasets.versions("raw")] == [1]


def test_a_one_file_change_stores_one_object(
    client: gnomon.Client, tmp_path: Path, gnomon_home: Path
) -> None:
    source = make_folder(tmp_path / "src", {f"f{i}": os.urandom(100) for i in range(20)})
    client.datasets.add(source, "raw")
    assert len(stored_objects(gnomon_home)) == 20
    (source / "f7").write_bytes(b"changed")
    second = client.datasets.add(source, "raw")
    assert (second.created, second.version.version) == (True, 2)
    assert (second.new_objects, second.new_bytes) == (1, len(b"changed"))
    assert len(stored_objects(gnomon_home)) == 21


def test_identical_files_are_stored_once(
    client: gnomon.Client, tmp_path: Path, gnomon_home: Path
) -> None:
    same = os.urandom(500)
    source = make_folder(tmp_path / "src", {"x/a": same, "y/b": same, "c": b"other"})
    result = client.datasets.add(source, "raw")
    assert (result.version.files, result.new_objects) == (3, 2)
    assert len(stored_objects(gnomon_home)) == 2
    out = client.datasets.checkout("raw", tmp_path / "out")
    assert (out / "x/a").read_bytes() == (out / "y/b").read_bytes() == same


def test_same_size_and_mtime_rewrite_is_seen(client: gnomon.Client, tmp_path: Path) -> None:
    # The digest cache keys on ctime and inode too: setting mtime back hides nothing.
    source = make_folder(tmp_path / "src", {"a": b"aaaa"})
    client.datasets.add(source, "raw")
    before = (source / "a").stat()
    (source / "a").write_bytes(b"bbbb")
    os.utime(source / "a", ns=(before.st_atime_ns, before.st_mtime_ns))
    result = client.datasets.add(source, "raw")
    assert (result.created, result.version.version) == (True, 2)


def test_a_single_file(client: gnomon.Client, tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,x\n")
    version = client.datasets.add(path, "one").version
    assert (version.files, version.kind.value) == (1, "table")
    assert [e.path for e in client.datasets.manifest("one").files] == ["table.csv"]


def test_symbolic_links_are_not_followed(client: gnomon.Client, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("not for the dataset")
    source = make_folder(tmp_path / "src", {"a": b"1"})
    (source / "link").symlink_to(secret)
    (source / "dirlink").symlink_to(tmp_path, target_is_directory=True)
    manifest = client.datasets.manifest(client.datasets.add(source, "raw").version.ref)
    assert [e.path for e in manifest.files] == ["a"]


def test_diff_names_added_removed_and_changed(client: gnomon.Client, tmp_path: Path) -> None:
    source = make_folder(tmp_path / "src", {"keep": b"k", "gone": b"g", "edit": b"1"})
    client.datasets.add(source, "raw")
    (source / "gone").unlink()
    (source / "edit").write_bytes(b"22")
    make_folder(source, {"sub/new": b"n"})
    client.datasets.add(source, "raw")
    diff = client.datasets.diff("raw@1", "raw@2")
    assert (diff.before, diff.after) == ("raw@1", "raw@2")
    assert [c.path for c in diff.added] == ["sub/new"]
    assert [c.path for c in diff.removed] == ["gone"]
    assert [(c.path, c.old.size, c.new.size) for c in diff.changed] == [("edit", 1, 2)]  # type: ignore[union-attr]
    assert client.datasets.diff("raw@2", "raw@2").unchanged


def test_diff_of_tables_counts_rows_and_columns(client: gnomon.Client, tmp_path: Path) -> None:
    source = make_folder(tmp_path / "src", {"t.csv": b"id,amount,city\n1,2,a\n2,3,b\n"})
    client.datasets.add(source, "sales")
    (source / "t.csv").write_bytes(b"id,amount,country\n1,2.5,x\n2,3,y\n3,4,z\n")
    client.datasets.add(source, "sales")
    (table,) = client.datasets.diff("sales@1", "sales@2").tables
    assert (table.rows_before, table.rows_after) == (2, 3)
    assert (table.columns_added, table.columns_removed) == (("country",), ("city",))
    assert table.types_changed == (("amount", "int64", "double"),)


def test_log_and_load_a_dataframe(client: gnomon.Client) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "a"], "w": [0.5, None, 1.5]})
    version = gnomon.log_dataset(frame, "frame")
    assert version.ref == "frame@1"
    assert gnomon.log_dataset(frame.copy(), "frame").ref == "frame@1"  # same content
    pd.testing.assert_frame_equal(gnomon.load_dataset("frame@1"), frame)
    arrow = pa.table({"x": [9]})
    assert gnomon.log_dataset(arrow, "frame").ref == "frame@2"
    assert gnomon.load_dataset("frame")["x"].tolist() == [9]


def test_load_of_files_that_are_not_tables_is_refused(
    client: gnomon.Client, tmp_path: Path
) -> None:
    client.datasets.add(make_folder(tmp_path / "src", {"model.bin": b"\x00"}), "blobs")
    with pytest.raises(InvalidInput, match="not tables"):
        client.datasets.load("blobs@1")


def test_bad_input(client: gnomon.Client, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        client.datasets.add(tmp_path / "missing", "raw")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="holds no file"):
        client.datasets.add(tmp_path / "empty", "raw")
    with pytest.raises(InvalidInput, match="dataset name"):
        client.datasets.add(make_folder(tmp_path / "src", {"a": b"1"}), " spaced ")
    with pytest.raises(NotFound, match="dataset 'nope' not found"):
        client.datasets.version("nope@1")
    client.datasets.add(tmp_path / "src", "raw")
    with pytest.raises(NotFound, match="no version 5; its latest is 1"):
        client.datasets.version("raw@5")
    with pytest.raises(InvalidInput, match="positive integer"):
        client.datasets.version("raw@abc")
    with pytest.raises(InvalidInput, match="log_dataset takes"):
        client.datasets.log({"not": "a table"}, "raw")
    assert [d.name for d in client.datasets.list()] == ["raw"]


def test_checkout_never_overwrites_and_leaves_nothing_on_failure(
    client: gnomon.Client, tmp_path: Path, gnomon_home: Path
) -> None:
    client.datasets.add(make_folder(tmp_path / "src", {"a": b"1", "b": b"2"}), "raw")
    taken = make_folder(tmp_path / "taken", {"mine": b"keep"})
    with pytest.raises(InvalidInput, match="not an empty folder"):
        client.datasets.checkout("raw", taken)
    assert [p.name for p in taken.iterdir()] == ["mine"]
    # A stored object lost from the artifact store: the checkout fails, leaving no folder.
    stored_objects(gnomon_home)[0].unlink()
    with pytest.raises(NotFound, match="missing from the store"):
        client.datasets.checkout("raw", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "src", "taken"]


def test_a_tampered_object_is_refused_on_checkout(
    client: gnomon.Client, tmp_path: Path, gnomon_home: Path
) -> None:
    client.datasets.add(make_folder(tmp_path / "src", {"a": b"original"}), "raw")
    (stored := stored_objects(gnomon_home)[0]).write_bytes(b"tampered")
    with pytest.raises(gnomon.Conflict, match="does not match its digest"):
        client.datasets.checkout("raw", tmp_path / "out")
    assert stored.exists() and not (tmp_path / "out").exists()


def test_workspaces_do_not_see_each_other(gnomon_home: Path, tmp_path: Path) -> None:
    from gnomon.auth.tables import workspaces

    source = make_folder(tmp_path / "src", {"a": b"shared bytes"})
    client = gnomon.Client()
    client.datasets.add(source, "raw")
    with client._services.database.write() as conn:  # type: ignore[union-attr]
        conn.execute(workspaces.insert().values(id="w2", name="other", created_time=0))
    other = gnomon.Client(workspace="other")
    with pytest.raises(NotFound):
        other.datasets.version("raw")
    # Its own copy: deduplication never reveals what another workspace stores.
    assert other.datasets.add(source, "raw").new_objects == 1


def test_on_s3_storage(
    gnomon_home: Path,
    tmp_path: Path,
    s3_root: str,
    s3_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GNOMON_ARTIFACTS", s3_root)
    monkeypatch.setenv("GNOMON_S3_ENDPOINT_URL", s3_server)
    client = gnomon.Client()
    source = make_folder(tmp_path / "src", {"a.bin": os.urandom(70_000), "t/b.csv": b"q\n1\n"})
    assert client.datasets.add(source, "raw").new_objects == 2
    (source / "t/b.csv").write_bytes(b"q\n1\n2\n")
    assert client.datasets.add(source, "raw").new_objects == 1
    out = client.datasets.checkout("raw@1", tmp_path / "out")
    assert (out / "a.bin").read_bytes() == (source / "a.bin").read_bytes()
    assert (out / "t/b.csv").read_bytes() == b"q\n1\n"
    (table,) = client.datasets.diff("raw@1", "raw@2").tables
    assert (table.rows_before, table.rows_after) == (1, 2)


def test_runs_record_the_versions_they_used(client: gnomon.Client, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]})
    gnomon.log_dataset(frame, "train")
    gnomon.set_experiment("lineage")
    with gnomon.start_run(name="fit") as run:
        data = gnomon.load_dataset("train", context="training")
        gnomon.log_input("train@1", context="training")  # again: recorded once
        model = LinearRegression().fit(data[["x"]], data["y"])
        uri = gnomon.log_model(model, "model", input_example=data[["x"]])
        produced = gnomon.log_dataset(data.assign(p=model.predict(data[["x"]])), "scored")
    gnomon.register_model(uri, "reg")
    with gnomon.start_run(name="other"):
        gnomon.log_input("train", context="evaluation")
    assert produced.run_id == run.id
    assert [(i.ref, i.context) for i in client.datasets.inputs(run.id)] == [("train@1", "training")]
    used = client.datasets.used_by("train@1")
    assert [(r.run_name, r.context, r.experiment) for r in used.runs] == [
        ("other", "evaluation", "lineage"),
        ("fit", "training", "lineage"),
    ]
    assert [(m.model, m.version, m.run_id) for m in used.models] == [("reg", 1, run.id)]
    assert client.datasets.used_by("scored").runs == ()


def test_inputs_are_checked(client: gnomon.Client) -> None:
    gnomon.log_dataset(pd.DataFrame({"x": [1]}), "d")
    with pytest.raises(InvalidInput, match="start a run first"):
        gnomon.log_input("d")
    with gnomon.start_run():
        with pytest.raises(NotFound, match="no version 7"):
            gnomon.log_input("d@7")
        with pytest.raises(InvalidInput, match="context"):
            gnomon.log_input("d", context="bad context!")
    with pytest.raises(NotFound, match="run 'nope' not found"):
        client.datasets.log_input("nope", "d")


def test_a_file_changed_while_versioned_records_nothing(
    client: gnomon.Client, tmp_path: Path, gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gnomon.data.objects import ObjectStore

    source = make_folder(tmp_path / "src", {"log.txt": b"first line\n", "keep": b"k"})
    original = ObjectStore.put_objects

    def racing(self, files, on_progress=None):  # type: ignore[no-untyped-def]
        with open(source / "log.txt", "ab") as log:  # a writer appends after the scan
            log.write(b"second line\n")
        return original(self, files, on_progress)

    monkeypatch.setattr(ObjectStore, "put_objects", racing)
    with pytest.raises(gnomon.Conflict, match="changed while they were versioned"):
        client.datasets.add(source, "logs")
    with pytest.raises(NotFound):
        client.datasets.version("logs")
    assert stored_objects(gnomon_home) == []  # nothing a version does not name is left
    monkeypatch.setattr(ObjectStore, "put_objects", original)
    (source / "log.txt").write_bytes(b"first line\n")  # the content the race would have hashed
    client.datasets.add(source, "logs")
    out = client.datasets.checkout("logs", tmp_path / "out")
    assert (out / "log.txt").read_bytes() == b"first line\n"


def test_a_file_swapped_for_a_link_after_the_scan_is_refused(
    client: gnomon.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gnomon.data.objects import ObjectStore

    secret = tmp_path / "private.key"
    secret.write_bytes(b"-----BEGIN PRIVATE KEY-----")
    source = make_folder(tmp_path / "src", {"data.bin": b"harmless"})
    original = ObjectStore.put_objects

    def swapping(self, files, on_progress=None):  # type: ignore[no-untyped-def]
        (source / "data.bin").unlink()
        (source / "data.bin").symlink_to(secret)
        return original(self, files, on_progress)

    monkeypatch.setattr(ObjectStore, "put_objects", swapping)
    with pytest.raises(gnomon.Conflict, match="changed while they were versioned"):
        client.datasets.add(source, "swap")
    with pytest.raises(NotFound):
        client.datasets.version("swap")


def test_a_name_that_is_not_utf8_is_refused(client: gnomon.Client, tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "ok").write_bytes(b"1")
    with open(os.path.join(os.fsencode(folder), b"\xff\xfe.bin"), "wb") as bad:
        bad.write(b"2")
    with pytest.raises(InvalidInput, match="not valid UTF-8"):
        client.datasets.add(folder, "raw")


def test_a_file_changed_in_the_last_second_is_hashed_again(
    client: gnomon.Client, tmp_path: Path
) -> None:
    from gnomon.data.hashing import DIGEST_CACHE, DigestCache
    from gnomon.data.scan import scan

    source = make_folder(tmp_path / "src", {"fresh": b"1"})
    cache = DigestCache(tmp_path / DIGEST_CACHE)
    scanned = scan(source, cache)
    assert scanned is not None and scanned.read_bytes == 1
    # Just written: a coarse clock could hide a second write, so the digest is not kept.
    assert scan(source, cache, read=False) is None
