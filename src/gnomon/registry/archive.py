"""Unpacking a ``.tar.gz`` of a model folder, on the server (an import) or in a client (a
download): regular files and folders only, every one inside the destination.

A link in the archive could make a hashed name read a file outside the folder, and a member
named ``../x`` or ``/x`` would be written outside it; each is refused, naming the member,
before anything is written.
"""

from __future__ import annotations

import re
import tarfile
import zlib
from pathlib import Path

from gnomon.errors import InvalidInput, PayloadTooLarge

_DRIVE = re.compile(r"^[A-Za-z]:")


def extract_model_archive(archive: Path, dst: Path, max_bytes: int | None = None) -> None:
    """Unpack ``archive`` into ``dst``.

    Raises:
        InvalidInput: not a ``.tar.gz``, or a member that is a link, a device, or escapes.
        PayloadTooLarge: the members add up to more than ``max_bytes`` once unpacked.
    """
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                _check(member)
            total = sum(m.size for m in members)
            if max_bytes is not None and total > max_bytes:
                raise PayloadTooLarge(
                    f"the model archive unpacks to {total} bytes; the limit is {max_bytes}",
                    {"limit": max_bytes},
                )
            tar.extractall(dst, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise InvalidInput(f"the body must be a .tar.gz of a gnomon model folder ({exc})") from None


def _check(member: tarfile.TarInfo) -> None:
    name = member.name
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
