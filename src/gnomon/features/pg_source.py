"""Connecting to a view's PostgreSQL source as the person who reads it.

A definition is written by one person and read by another (a teammate's training frame, a
materialisation on a worker, a definition applied through a server), so its URI and query are
not the reader's own choice:

- ``PGPASSWORD`` goes only to the host ``PGHOST`` names: libpq would hand it to whatever host
  the URI names. Elsewhere the password comes from ``~/.pgpass``, whose entries name their
  host, or no password is sent.
- The query runs in a read-only transaction: reading features never writes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    import psycopg


def connect(uri: str) -> psycopg.Connection[Any]:
    import psycopg

    options: dict[str, Any] = {}
    if "PGPASSWORD" in os.environ and not _is_pghost(uri):
        options["password"] = ""  # set, so libpq reads no PGPASSWORD; ~/.pgpass still applies
    conn = psycopg.connect(uri, **options)
    conn.read_only = True
    return conn


def _is_pghost(uri: str) -> bool:
    parts = urlsplit(uri)
    hosts = {h.lower() for h in (parts.hostname,) if h}
    hosts |= {v.lower() for k, v in parse_qsl(parts.query) if k.strip().lower() == "host"}
    wanted = os.environ.get("PGHOST", "").lower()
    return bool(wanted) and hosts == {wanted}


__all__ = ["connect"]
