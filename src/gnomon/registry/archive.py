"""Unpacking a ``.tar.gz`` of a model folder, on the server (an import) or in a client (a
download): regular files and folders only, every one inside the destination.

A link in the archive could make a hashed name read a file outside the folder, and a member
named ``../x`` or ``/x`` would be written outside it; each is refused, naming the member,
before anything is written. So is a name that is not valid UTF-8 (no path, database row or
error message can hold it), more than ``MAX_MEMBERS`` members, and a total size out of
proportion to the upload (a gzip "bomb": 100 KB of gzip can unpack to 100 MB of zeros).
Headers are read one at a time and the limits checked at each, so a bomb is refused before
its contents are decompressed.
"""

from __future__ import annotations

import gzip
import re
import tarfile
import zlib
from pathlib import Path
from typing import IO, Final, cast

from gnomon.checks import text_problem
from gnomon.errors import InvalidInput, PayloadTooLarge

MAX_MEMBERS: Final = 10_000
# Unpacked bytes allowed per byte uploaded, beyond the first FREE_BYTES: model files rarely
# compress beyond 10:1; gzip's limit is about 1000:1, reached only by repeated bytes.
MAX_RATIO: Final = 200
FREE_BYTES: Final = 8 * 2**20

_DRIVE = re.compile(r"^[A-Za-z]:")


def extract_model_archive(archive: Path, dst: Path, max_bytes: int | None = None) -> None:
    """Unpack ``archive`` into ``dst``.

    Raises:
        InvalidInput: not a ``.tar.gz``; a member that is a link, a device, escapes, or whose
            name is not UTF-8; more than ``MAX_MEMBERS`` members.
        PayloadTooLarge: the members add up to more than ``max_bytes`` once unpacked, or to
            more than ``FREE_BYTES`` plus ``MAX_RATIO`` times the archive's size.
    """
    size = archive.stat().st_size
    limit = FREE_BYTES + MAX_RATIO * size
    # tarfile reads a whole PAX or GNU long-name header body into memory before any check of
    # ours sees the member, so the decompressed stream itself is capped: headers and padding
    # (at most about 1 KiB a member) on top of what the members may hold.
    cap = min(limit, max_bytes if max_bytes is not None else limit) + MAX_MEMBERS * 1024
    try:
        with gzip.open(archive, "rb") as raw:
            stream = _Capped(raw, cap, size)
            # The names' bytes are decoded as UTF-8 whatever the server's locale; a byte that
            # is not UTF-8 becomes a lone surrogate, which _check refuses.
            with tarfile.open(
                fileobj=cast(IO[bytes], stream),  # read, seek and tell are all tarfile needs
                mode="r:",
                encoding="utf-8",
                errors="surrogateescape",
            ) as tar:
                members = _members(tar, max_bytes, size, limit)
                tar.extractall(dst, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        # Only the kind of failure: its text can name the server's temporary folder.
        raise InvalidInput(
            f"the body must be a .tar.gz of a gnomon model folder ({type(exc).__name__})"
        ) from None


class _Capped:
    """A decompressed stream that refuses to be read or sought past ``cap`` bytes."""

    def __init__(self, raw: gzip.GzipFile, cap: int, size: int) -> None:
        self._raw = raw
        self._cap = cap
        self._size = size

    def read(self, n: int = -1) -> bytes:
        position = self._raw.tell()
        wanted = self._cap + 1 - position if n is None or n < 0 else n
        if position + wanted > self._cap:
            # Only a read that finds the bytes is over the cap: the archive's own end is not.
            data = self._raw.read(max(0, self._cap - position) + 1)
            if position + len(data) > self._cap:
                raise self._too_large()
            return data
        return self._raw.read(wanted)

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset + (self._raw.tell() if whence == 1 else 0)
        if whence not in (0, 1) or target > self._cap:
            raise self._too_large()
        return self._raw.seek(target)

    def tell(self) -> int:
        return self._raw.tell()

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the model archive of {self._size} bytes unpacks to more than {self._cap} bytes",
            {"limit": self._cap},
        )


def _members(
    tar: tarfile.TarFile, max_bytes: int | None, size: int, limit: int
) -> list[tarfile.TarInfo]:
    members: list[tarfile.TarInfo] = []
    total = 0
    while (member := tar.next()) is not None:  # one header at a time: stop at the first excess
        if len(members) == MAX_MEMBERS:
            raise InvalidInput(
                f"the model archive holds more than {MAX_MEMBERS} members",
                {"limit": MAX_MEMBERS},
            )
        _check(member)
        total += member.size
        if max_bytes is not None and total > max_bytes:
            raise PayloadTooLarge(
                f"the model archive unpacks to more than {max_bytes} bytes; the limit is "
                f"{max_bytes}",
                {"limit": max_bytes},
            )
        if total > limit:
            raise PayloadTooLarge(
                f"the model archive of {size} bytes unpacks to at least {total} bytes; the "
                f"limit is {FREE_BYTES} plus {MAX_RATIO} times the archive's size ({limit})",
                {"limit": limit},
            )
        members.append(member)
    return members


def _check(member: tarfile.TarInfo) -> None:
    name = member.name
    if text_problem(name) is not None:
        raise InvalidInput(
            f"archive member {ascii(name)[:200]} has a name that is not valid UTF-8 text",
            {"member": ascii(name)[:200]},
        )
    if len(name) > 1000:
        raise InvalidInput(f"archive member {name[:100]!r}... has a name over 1000 characters")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or "\\" in name or ".." in parts or _DRIVE.match(name):
        raise InvalidInput(f"archive member {name!r} is outside the model folder", {"member": name})
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "special file"
        raise InvalidInput(
            f"archive member {name!r} is a {kind}; a model archive holds regular files "
            "and folders only",
            {"member": name},
        )
