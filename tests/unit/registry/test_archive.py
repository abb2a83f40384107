"""Unpacking model archives: the decompressed stream is capped before tarfile reads a header
body into memory (a PAX or GNU long-name header can hold hundreds of MB of a repeated byte)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from gnomon.errors import PayloadTooLarge
from gnomon.registry.archive import FREE_BYTES, MAX_RATIO, extract_model_archive


def _archive(path: Path, name: str, fmt: int) -> Path:
    with tarfile.open(path, "w:gz", format=fmt) as tar:
        member = tarfile.TarInfo(name)
        member.size = 1
        tar.addfile(member, io.BytesIO(b"x"))
    return path


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT], ids=["gnu", "pax"])
def test_a_huge_header_body_is_refused_by_the_stream_cap(tmp_path: Path, fmt: int) -> None:
    archive = _archive(tmp_path / "bomb.tar.gz", "a" * (40 * 2**20), fmt)
    size = archive.stat().st_size
    assert FREE_BYTES + MAX_RATIO * size < 40 * 2**20  # the name alone is over the cap
    # Before the cap, tarfile read the whole name into memory and the member check then
    # refused it as a long name (InvalidInput); now the stream stops at the cap.
    with pytest.raises(PayloadTooLarge, match="unpacks to more than"):
        extract_model_archive(archive, tmp_path / "out", max_bytes=2**30)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_ordinary_archive_unpacks_whole(tmp_path: Path) -> None:
    source = tmp_path / "model"
    (source / "sub").mkdir(parents=True)
    (source / "gnomon-model.yaml").write_text("flavor: sklearn\n")
    (source / "sub" / "weights.bin").write_bytes(bytes(range(256)) * 4096)
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname=".")
    extract_model_archive(archive, tmp_path / "out", max_bytes=2**30)
    assert (tmp_path / "out" / "sub" / "weights.bin").read_bytes() == bytes(range(256)) * 4096
    assert (tmp_path / "out" / "gnomon-model.yaml").read_text() == "flavor: sklearn\n"
