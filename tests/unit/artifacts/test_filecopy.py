"""``filecopy.copy_bytes``: byte-identical copies whichever way the file system takes them."""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gnomon.artifacts import filecopy

BLOCK = 4096
SIZES = [
    0,
    1,
    BLOCK - 1,
    filecopy.DIRECT_MIN - 1,  # the page cache's copy
    filecopy.DIRECT_MIN,  # direct, whole blocks only
    filecopy.DIRECT_MIN + 1234,  # direct, then a tail through the page cache
    2 * (4 << 20) + BLOCK + 17,  # several direct chunks, then a tail
]


@contextmanager
def opened(source: Path, target: Path) -> Iterator[tuple[int, int]]:
    src = os.open(source, os.O_RDONLY)
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        yield src, out
    finally:
        os.close(src)
        os.close(out)


@pytest.mark.parametrize("size", SIZES)
def test_a_copy_is_byte_identical(tmp_path: Path, size: int) -> None:
    source = tmp_path / "source"
    source.write_bytes(os.urandom(size))
    with opened(source, tmp_path / "target") as (src, out):
        assert filecopy.copy_bytes(src, out, size) == size
    assert (tmp_path / "target").read_bytes() == source.read_bytes()


def test_a_source_that_shrank_copies_what_is_there(tmp_path: Path) -> None:
    source = tmp_path / "source"
    data = os.urandom(filecopy.DIRECT_MIN + 100)
    source.write_bytes(data)
    with opened(source, tmp_path / "target") as (src, out):
        # the size a scan saw, larger than the file now is
        assert filecopy.copy_bytes(src, out, len(data) + 5000) == len(data)
    assert (tmp_path / "target").read_bytes() == data


def test_direct_io_copies_and_leaves_the_file_as_it_was_opened(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    data = os.urandom(3 * BLOCK * 100 + 7)
    source.write_bytes(data)
    with opened(source, tmp_path / "target") as (src, out):
        before = fcntl.fcntl(out, fcntl.F_GETFL)
        copied = filecopy._direct(src, out, len(data))
        if copied is None:
            pytest.skip("this file system refuses direct I/O")
        assert copied == len(data)
        # later writes (a caller's fsync, the user-space fallback) need no alignment
        assert fcntl.fcntl(out, fcntl.F_GETFL) == before
    assert (tmp_path / "target").read_bytes() == data


def refusing_direct_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> list[int]:
    """Makes every write to a file open for direct I/O fail with ``code``, as a file system
    that accepts the flag but not the write does; returns the offsets refused."""
    real = os.pwrite
    refused: list[int] = []

    def pwrite(descriptor: int, data: bytes | memoryview, offset: int) -> int:
        if fcntl.fcntl(descriptor, fcntl.F_GETFL) & os.O_DIRECT:
            refused.append(offset)
            raise OSError(code, os.strerror(code))
        return real(descriptor, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    return refused


def test_a_direct_write_refused_goes_through_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    data = os.urandom(3 * (4 << 20) + 5)
    source.write_bytes(data)
    refused = refusing_direct_writes(monkeypatch, errno.EINVAL)
    with opened(source, tmp_path / "target") as (src, out):
        before = fcntl.fcntl(out, fcntl.F_GETFL)
        assert filecopy._direct(src, out, len(data)) == len(data)
        assert fcntl.fcntl(out, fcntl.F_GETFL) == before
    if not refused:
        pytest.skip("this file system refuses direct I/O at the flag already")
    assert refused == [0]  # tried once; then every chunk went through the page cache
    assert (tmp_path / "target").read_bytes() == data


def test_a_full_disk_is_an_error_not_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    source.write_bytes(os.urandom(filecopy.DIRECT_MIN))
    refused = refusing_direct_writes(monkeypatch, errno.ENOSPC)
    with opened(source, tmp_path / "target") as (src, out):
        before = fcntl.fcntl(out, fcntl.F_GETFL)
        try:
            filecopy._direct(src, out, filecopy.DIRECT_MIN)
        except OSError as error:
            assert error.errno == errno.ENOSPC
        else:
            assert not refused, "a full disk was taken for a file system without direct I/O"
            pytest.skip("this file system refuses direct I/O at the flag already")
        assert fcntl.fcntl(out, fcntl.F_GETFL) == before
