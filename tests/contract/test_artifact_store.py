"""One contract suite for every ArtifactStore; each subclass supplies the ``store`` fixture."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gnomon.artifacts import ArtifactInfo, ArtifactStore, LocalArtifactStore
from gnomon.errors import InvalidInput, NotFound, Unavailable
from tests.fixtures.processes import free_port

BAD_KEYS = ["../x", "a/../../x", "a/..", "/etc/passwd", "\\windows\\x"]
LARGE = 12 * 10**6  # over two 5 MiB parts, so the S3 store below uploads it in three parts


def _write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


TREE = {
    "z.txt": b"zzz",
    "a.txt": b"a",
    "m/b.json": b'{"b": 1}',
    "m/deep/c.bin": bytes(range(256)),
}


class ArtifactStoreContract:
    __test__ = False

    @pytest.fixture
    def store(self) -> ArtifactStore:
        raise NotImplementedError("each subclass supplies the store")

    def test_conforms_to_the_protocol(self, store: ArtifactStore) -> None:
        assert isinstance(store, ArtifactStore)

    def test_uri_appends_the_key_to_the_root(self, store: ArtifactStore) -> None:
        assert store.uri("a/b.txt") == f"{store.root}/a/b.txt"

    def test_bytes_round_trip(self, store: ArtifactStore) -> None:
        store.put_bytes(b"hello", "run1/greeting.txt")
        assert store.get_bytes("run1/greeting.txt") == b"hello"

    def test_empty_file_round_trips(self, store: ArtifactStore) -> None:
        store.put_bytes(b"", "empty")
        assert store.get_bytes("empty") == b""
        assert store.list() == [ArtifactInfo("empty", False, 0)]

    def test_file_round_trip(self, store: ArtifactStore, tmp_path: Path) -> None:
        source = tmp_path / "model.pkl"
        source.write_bytes(b"\x00\x01 weights")
        store.put_file(source, "run1/model/model.pkl")
        assert store.get_bytes("run1/model/model.pkl") == b"\x00\x01 weights"

    def test_put_file_of_a_missing_file_raises_not_found(
        self, store: ArtifactStore, tmp_path: Path
    ) -> None:
        with pytest.raises(NotFound, match=r"nope\.bin"):
            store.put_file(tmp_path / "nope.bin", "x")

    def test_replacing_a_file(self, store: ArtifactStore, tmp_path: Path) -> None:
        store.put_bytes(b"first version, longer", "k.txt")
        store.put_bytes(b"second", "k.txt")
        assert store.get_bytes("k.txt") == b"second"
        (tmp_path / "third").write_bytes(b"3")
        store.put_file(tmp_path / "third", "k.txt")
        assert store.get_bytes("k.txt") == b"3"
        assert store.list() == [ArtifactInfo("k.txt", False, 1)]

    def test_put_dir_then_list_one_level_sorted_with_sizes(
        self, store: ArtifactStore, tmp_path: Path
    ) -> None:
        store.put_dir(_write_tree(tmp_path / "src", TREE), "run1/out")
        assert store.list() == [ArtifactInfo("run1", True)]
        assert store.list("run1/out") == [
            ArtifactInfo("run1/out/a.txt", False, 1),
            ArtifactInfo("run1/out/m", True),
            ArtifactInfo("run1/out/z.txt", False, 3),
        ]
        assert store.list("run1/out/m/") == [
            ArtifactInfo("run1/out/m/b.json", False, 8),
            ArtifactInfo("run1/out/m/deep", True),
        ]
        for name, data in TREE.items():
            assert store.get_bytes(f"run1/out/{name}") == data

    def test_put_dir_at_the_root(self, store: ArtifactStore, tmp_path: Path) -> None:
        store.put_dir(_write_tree(tmp_path / "src", TREE), "")
        assert [info.path for info in store.list()] == ["a.txt", "m", "z.txt"]

    def test_put_dir_of_a_missing_folder_raises_not_found(
        self, store: ArtifactStore, tmp_path: Path
    ) -> None:
        with pytest.raises(NotFound, match="nowhere"):
            store.put_dir(tmp_path / "nowhere", "x")

    def test_absent_prefix_lists_as_empty(self, store: ArtifactStore) -> None:
        assert store.list() == []
        assert store.list("no/such/prefix") == []

    def test_a_file_has_no_children(self, store: ArtifactStore) -> None:
        store.put_bytes(b"x", "run1/file.txt")
        assert store.list("run1/file.txt") == []

    def test_listing_does_not_match_sibling_names(self, store: ArtifactStore) -> None:
        store.put_bytes(b"1", "run1/a")
        store.put_bytes(b"2", "run10/b")
        assert store.list("run1") == [ArtifactInfo("run1/a", False, 1)]

    def test_listing_sees_every_write_and_delete(self, store: ArtifactStore) -> None:
        store.put_bytes(b"1", "run/a")
        assert [i.path for i in store.list("run")] == ["run/a"]
        store.put_bytes(b"2", "run/b")
        assert [i.path for i in store.list("run")] == ["run/a", "run/b"]
        store.delete("run/a")
        assert [i.path for i in store.list("run")] == ["run/b"]

    def test_get_missing_key_raises_not_found_naming_it(self, store: ArtifactStore) -> None:
        with pytest.raises(NotFound, match=r"run9/missing\.txt") as info:
            store.get_bytes("run9/missing.txt")
        assert info.value.details == {"key": "run9/missing.txt"}

    def test_get_of_a_prefix_raises_not_found(self, store: ArtifactStore) -> None:
        store.put_bytes(b"x", "run1/a/b")
        with pytest.raises(NotFound, match="run1/a"):
            store.get_bytes("run1/a")

    def test_download_a_file(self, store: ArtifactStore, tmp_path: Path) -> None:
        store.put_bytes(b"weights", "run1/model/model.bin")
        local = store.download("run1/model/model.bin", tmp_path / "dl")
        assert local == tmp_path / "dl" / "model.bin"
        assert local.read_bytes() == b"weights"

    def test_download_a_prefix(self, store: ArtifactStore, tmp_path: Path) -> None:
        store.put_dir(_write_tree(tmp_path / "src", TREE), "run1/out")
        local = store.download("run1/out", tmp_path / "dl")
        assert local == tmp_path / "dl" / "out"
        copied = {
            p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*") if p.is_file()
        }
        assert copied == TREE

    def test_download_missing_key_raises_not_found(
        self, store: ArtifactStore, tmp_path: Path
    ) -> None:
        with pytest.raises(NotFound, match="run1/nothing"):
            store.download("run1/nothing", tmp_path)

    def test_delete_a_prefix(self, store: ArtifactStore, tmp_path: Path) -> None:
        store.put_dir(_write_tree(tmp_path / "src", TREE), "run1")
        store.put_bytes(b"keep", "run2/keep.txt")
        store.delete("run1/m")
        assert [i.path for i in store.list("run1")] == ["run1/a.txt", "run1/z.txt"]
        with pytest.raises(NotFound):
            store.get_bytes("run1/m/deep/c.bin")
        store.delete("run1")
        assert store.list() == [ArtifactInfo("run2", True)]
        assert store.get_bytes("run2/keep.txt") == b"keep"

    def test_delete_a_file(self, store: ArtifactStore) -> None:
        store.put_bytes(b"x", "run1/a.txt")
        store.put_bytes(b"y", "run1/a.txt.bak")
        store.delete("run1/a.txt")
        assert store.list("run1") == [ArtifactInfo("run1/a.txt.bak", False, 1)]

    def test_delete_of_an_absent_key_is_not_an_error(self, store: ArtifactStore) -> None:
        store.delete("never/written")
        assert store.list() == []

    @pytest.mark.parametrize("key", BAD_KEYS)
    def test_keys_leaving_the_root_are_rejected(
        self, store: ArtifactStore, tmp_path: Path, key: str
    ) -> None:
        (tmp_path / "f").write_bytes(b"x")
        calls: list[Callable[[], object]] = [
            lambda: store.put_bytes(b"x", key),
            lambda: store.put_file(tmp_path / "f", key),
            lambda: store.put_dir(tmp_path, key),
            lambda: store.get_bytes(key),
            lambda: store.list(key),
            lambda: store.download(key, tmp_path / "dl"),
            lambda: store.delete(key),
            lambda: store.uri(key),
        ]
        for call in calls:
            with pytest.raises(InvalidInput) as info:
                call()
            assert repr(key) in info.value.message
        assert not (tmp_path / "dl").exists()

    @pytest.mark.parametrize(
        ("key", "limit"),
        [
            ("run/" + "a" * 300 + "/f", "255 bytes"),  # one segment over a file name's limit
            ("run/" + "é" * 128, "255 bytes"),  # 128 characters, 256 bytes in UTF-8
            ("ab/" * 1700, "1024 bytes"),  # 5,100 characters in short segments
        ],
        ids=["long-segment", "multibyte-segment", "long-key"],
    )
    def test_keys_over_the_length_limits_are_rejected_naming_the_limit(
        self, store: ArtifactStore, tmp_path: Path, key: str, limit: str
    ) -> None:
        (tmp_path / "f").write_bytes(b"x")
        calls: list[Callable[[], object]] = [
            lambda: store.put_bytes(b"x", key),
            lambda: store.put_file(tmp_path / "f", key),
            lambda: store.get_bytes(key),
            lambda: store.list(key),
            lambda: store.download(key, tmp_path / "dl"),
            lambda: store.delete(key),
        ]
        for call in calls:
            with pytest.raises(InvalidInput, match=limit) as info:
                call()
            assert len(info.value.message) < 300  # names the key's start, not all of it
        assert store.list() == []

    def test_a_folder_whose_keys_are_too_long_stores_nothing(
        self, store: ArtifactStore, tmp_path: Path
    ) -> None:
        deep = "/".join(["d" * 200] * 6) + "/f"  # a local folder can hold it; a key cannot
        _write_tree(tmp_path / "src", {"ok.txt": b"1", deep: b"2"})
        with pytest.raises(InvalidInput, match="1024 bytes"):
            store.put_dir(tmp_path / "src", "run")
        assert store.list() == []

    def test_segments_at_the_limit_round_trip(self, store: ArtifactStore) -> None:
        key = f"{'s' * 255}/{'é' * 127}"  # 255 bytes, then 254
        store.put_bytes(b"long", key)
        assert store.get_bytes(key) == b"long"
        assert store.list("s" * 255) == [ArtifactInfo(key, False, 4)]

    def test_large_file_round_trips_byte_for_byte(
        self, store: ArtifactStore, tmp_path: Path
    ) -> None:
        data = os.urandom(LARGE)
        (tmp_path / "big.bin").write_bytes(data)
        store.put_file(tmp_path / "big.bin", "big/file.bin")
        store.put_bytes(data[::-1], "big/reversed.bin")
        assert store.get_bytes("big/file.bin") == data
        assert store.get_bytes("big/reversed.bin") == data[::-1]
        assert store.download("big/file.bin", tmp_path / "dl").read_bytes() == data
        assert store.list("big") == [
            ArtifactInfo("big/file.bin", False, LARGE),
            ArtifactInfo("big/reversed.bin", False, LARGE),
        ]


class TestLocalArtifactStore(ArtifactStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, tmp_path: Path) -> ArtifactStore:
        return LocalArtifactStore(tmp_path / "artifacts")

    def test_root_is_created_on_the_first_write(self, tmp_path: Path) -> None:
        store = LocalArtifactStore(tmp_path / "a" / "b")
        assert not (tmp_path / "a").exists()
        store.put_bytes(b"x", "k")
        assert (tmp_path / "a" / "b" / "k").read_bytes() == b"x"
        assert store.root == (tmp_path / "a" / "b").as_posix()

    def test_no_temporary_files_are_left_behind(self, store: ArtifactStore, tmp_path: Path) -> None:
        store.put_dir(_write_tree(tmp_path / "src", TREE), "run1")
        store.put_bytes(b"x", "run1/a.txt")
        names = {p.name for p in (tmp_path / "artifacts").rglob("*")}
        assert names == {"run1", "a.txt", "z.txt", "m", "b.json", "deep", "c.bin"}

    def test_readers_never_see_a_partial_file(self, store: ArtifactStore, tmp_path: Path) -> None:
        versions = [bytes([i]) * size for i, size in enumerate([1, 3_000_000, 10, 1_500_000])]
        for i, data in enumerate(versions):
            (tmp_path / f"v{i}").write_bytes(data)
        store.put_bytes(versions[0], "model.bin")
        done = threading.Event()
        seen: list[bytes] = []
        torn: list[int] = []

        def read() -> None:
            while not done.is_set():
                data = store.get_bytes("model.bin")
                seen.append(data[:1])
                if data not in versions:
                    torn.append(len(data))

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for round_ in range(40):
                i = round_ % len(versions)
                if round_ % 2:
                    store.put_file(tmp_path / f"v{i}", "model.bin")
                else:
                    store.put_bytes(versions[i], "model.bin")
                time.sleep(0.001)
        finally:
            done.set()
            reader.join()
        assert torn == []
        assert len(set(seen)) > 1, "the reader should have seen several versions"


@pytest.mark.s3
class TestS3ArtifactStore(ArtifactStoreContract):
    __test__ = True

    @pytest.fixture
    def store(self, s3_root: str, s3_server: str) -> ArtifactStore:
        from gnomon.artifacts.s3 import S3ArtifactStore

        # The smallest part size S3 allows, so LARGE really goes through a multipart upload.
        return S3ArtifactStore(s3_root, endpoint_url=s3_server, part_size=5 * 2**20)

    def test_large_files_are_uploaded_in_parts(
        self, store: ArtifactStore, s3_root: str, s3_server: str, tmp_path: Path
    ) -> None:
        (tmp_path / "big.bin").write_bytes(os.urandom(LARGE))
        store.put_file(tmp_path / "big.bin", "big.bin")
        store.put_bytes(os.urandom(LARGE), "big2.bin")
        # A multipart object's ETag ends in -<number of parts>.
        assert _etag(s3_server, s3_root, "big.bin").endswith('-3"')
        assert _etag(s3_server, s3_root, "big2.bin").endswith('-3"')

    def test_listing_sees_objects_written_by_another_client(
        self, store: ArtifactStore, s3_root: str, s3_server: str
    ) -> None:
        store.put_bytes(b"1", "run/a")
        assert [i.path for i in store.list("run")] == ["run/a"]
        with _s3_client(s3_server) as client:
            client.put_object(Bucket=_bucket(s3_root), Key="artifacts/run/b", Body=b"2")
        assert [i.path for i in store.list("run")] == ["run/a", "run/b"]

    def test_missing_bucket_is_unavailable_without_naming_it(
        self, s3_server: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        from gnomon.artifacts.s3 import S3ArtifactStore

        store = S3ArtifactStore("s3://no-such-bucket/x", endpoint_url=s3_server)
        with pytest.raises(Unavailable) as info:
            store.put_bytes(b"x", "k")
        assert info.value.message == "the artifact store is unavailable"
        assert info.value.details == {}
        with pytest.raises(Unavailable, match="the artifact store is unavailable"):
            store.check_ready()
        assert "no-such-bucket" in caplog.text  # the operator learns which
        assert store.list() == []

    def test_an_existing_bucket_is_ready(self, store: Any) -> None:
        store.check_ready()

    def test_unreachable_endpoint_raises_unavailable_naming_nothing_internal(
        self, s3_server: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        from gnomon.artifacts.s3 import S3ArtifactStore

        # botocore retries a refused connection with backoff (about 6 s a call); once is enough.
        monkeypatch.setenv("AWS_RETRY_MODE", "standard")
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        port = free_port()
        store = S3ArtifactStore("s3://private-bucket/x", endpoint_url=f"http://127.0.0.1:{port}")
        calls: list[Callable[[], object]] = [
            lambda: store.get_bytes("k"),
            lambda: store.put_bytes(b"x", "k"),
            lambda: store.list("k"),
            store.check_ready,
        ]
        for call in calls:
            with pytest.raises(Unavailable) as info:
                call()
            assert info.value.message == "the artifact store is unavailable"
            assert info.value.details == {}
        assert f"127.0.0.1:{port}" in caplog.text

    def test_a_key_too_long_below_the_prefix_is_rejected(self, s3_server: str) -> None:
        from gnomon.artifacts.s3 import S3ArtifactStore

        prefix = "p" * 200
        store = S3ArtifactStore(f"s3://bucket/{prefix}", endpoint_url=s3_server)
        key = "/".join(["k" * 200] * 5)  # 1004 bytes: a valid key, but 1205 with the prefix
        with pytest.raises(InvalidInput, match="S3 allows 1024"):
            store.put_bytes(b"x", key)

    def test_root_must_be_an_s3_uri(self) -> None:
        from gnomon.artifacts.s3 import S3ArtifactStore

        with pytest.raises(InvalidInput, match="s3://bucket/prefix"):
            S3ArtifactStore("/tmp/not-s3")


def _bucket(s3_root: str) -> str:
    return s3_root.removeprefix("s3://").split("/", 1)[0]


@contextmanager
def _s3_client(endpoint: str) -> Iterator[Any]:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    try:
        yield client
    finally:
        client.close()


def _etag(endpoint: str, s3_root: str, key: str) -> str:
    with _s3_client(endpoint) as client:
        head = client.head_object(Bucket=_bucket(s3_root), Key=f"artifacts/{key}")
    return str(head["ETag"])
