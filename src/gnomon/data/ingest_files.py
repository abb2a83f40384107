"""Parquet and CSV files, on S3 or a local disk, copied as they are into a folder to version.

A folder's other files (Spark's ``_SUCCESS``, checksums) are left out. Every file copied is
checked: a Parquet file's footer is read, a CSV file is parsed to its end.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from gnomon.artifacts.keys import clean_key
from gnomon.data.entities import TABLE_SUFFIXES
from gnomon.errors import InvalidInput, Unavailable

Progress = Callable[[int, int | None], None]


def copy(
    kind: str, url: str, into: Path, s3_endpoint_url: str | None, on_progress: Progress | None
) -> None:
    """Copy the table files at ``url`` (``kind`` s3 or local) into the folder ``into``.

    Raises:
        InvalidInput: nothing there, no Parquet or CSV file, or a file that does not parse.
        Unavailable: S3 cannot be reached.
    """
    if kind == "s3":
        _copy_s3(url, into, s3_endpoint_url, on_progress)
    else:
        _copy_local(Path(url), into, on_progress)
    for path in sorted(p for p in into.rglob("*") if p.is_file()):
        check_table_file(path, path.relative_to(into).as_posix())


def _copy_local(source: Path, into: Path, on_progress: Progress | None) -> None:
    if source.is_file():
        found = [(source, source.name)]
    elif source.is_dir():
        found = [(source / relative, relative) for relative in _table_files(source)]
    else:
        raise InvalidInput(f"path '{source}' does not exist", {"path": str(source)})
    _check_some(found, str(source))
    done = 0
    for path, relative in found:
        target = _target(into, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)  # in the kernel where it can: never whole in memory
        done += target.stat().st_size
        if on_progress is not None:
            on_progress(done, None)


def _table_files(folder: Path) -> list[str]:
    found = []
    # Symbolic links are not followed, as `gnomon data add` does not: they could point anywhere.
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if name.lower().endswith(TABLE_SUFFIXES) and not path.is_symlink():
                found.append(path.relative_to(folder).as_posix())
    return sorted(found)


def _copy_s3(url: str, into: Path, endpoint_url: str | None, on_progress: Progress | None) -> None:
    fs, unreachable = _s3_filesystem(endpoint_url)
    base = url.removeprefix("s3://").rstrip("/")
    try:
        info = fs.info(base)
        if info["type"] == "directory":
            keys = sorted(k for k in fs.find(base) if k.lower().endswith(TABLE_SUFFIXES))
            found = [(key, key[len(base) + 1 :]) for key in keys]
        else:
            found = [(base, base.rsplit("/", 1)[-1])]
        _check_some(found, url)
        done = 0
        for key, relative in found:
            target = _target(into, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(key, str(target))  # streamed in blocks
            done += target.stat().st_size
            if on_progress is not None:
                on_progress(done, None)
    except FileNotFoundError:
        raise InvalidInput(f"nothing at {url}", {"url": url}) from None
    except unreachable as exc:
        raise Unavailable(f"S3 cannot be reached for {url}: {exc}", {"url": url}) from None


def _s3_filesystem(endpoint_url: str | None) -> tuple[Any, tuple[type[BaseException], ...]]:
    try:
        import s3fs
        from botocore import exceptions as boto
    except ImportError as exc:
        raise InvalidInput("reading from S3 needs the s3 extra: pip install 'gnomon[s3]'") from exc
    client_kwargs = {"endpoint_url": endpoint_url} if endpoint_url else {}
    fs = s3fs.S3FileSystem(client_kwargs=client_kwargs, use_listings_cache=False)
    # As the S3 artifact store: OSError covers refused credentials and S3's other errors.
    return fs, (boto.ConnectionError, boto.HTTPClientError, boto.NoCredentialsError, OSError)


def _target(into: Path, relative: str) -> Path:
    """Where ``relative`` (an S3 key's tail, which anyone who can write the bucket chooses)
    goes below ``into``; a key that climbs out (``..``, a leading ``/``) is refused."""
    target = into / clean_key(relative)
    if not target.resolve().is_relative_to(into.resolve()):
        raise InvalidInput(f"{relative!r} would be written outside the staging folder")
    return target


def _check_some(found: list[Any], where: str) -> None:
    if not found:
        raise InvalidInput(f"{where} holds no Parquet or CSV file", {"url": where})
    for _, relative in found:
        clean_key(relative)  # before the first copy: a key that climbs out stores nothing
        if not relative.lower().endswith(TABLE_SUFFIXES):
            raise InvalidInput(
                f"{relative} is neither Parquet nor CSV: version it with `gnomon data add`",
                {"path": relative},
            )


def check_table_file(path: Path, shown: str) -> None:
    """Raises ``InvalidInput`` naming ``shown`` when the file does not read as its suffix
    says; for a CSV, the line where parsing stopped."""
    import pyarrow.csv as csv
    import pyarrow.parquet as pq

    if shown.lower().endswith(".parquet"):
        try:
            pq.ParquetFile(path).close()
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInput(f"{shown} is not a Parquet file: {exc}", {"path": shown}) from None
        return
    rows = 0
    # One thread: pyarrow then says on which row a parse error is ("Row #N", header included).
    options = csv.ReadOptions(use_threads=False)
    try:
        with csv.open_csv(path, read_options=options) as reader:
            for batch in reader:
                rows += batch.num_rows
    except pa.ArrowInvalid as exc:
        text = str(exc)
        row = re.search(r"Row #(\d+)", text)  # physical lines, the header's included
        # Without a row number (older pyarrow), only the batch that failed is known.
        where = f"line {row[1]}" if row is not None else f"line {rows + 2} or after"
        raise InvalidInput(
            f"{shown} is not a CSV that parses, at {where}: {text}", {"path": shown}
        ) from None
