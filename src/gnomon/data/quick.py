"""Telling that a path is already the latest version of a dataset without SQLAlchemy or
pydantic (half a second of imports): ``gnomon data add`` on unchanged data answers in about
the time the CLI takes to start.

Only for the embedded default, a local SQLite store, and only when every file's digest is in
this machine's cache; anything else returns ``None`` and the command takes its full path,
which gives the same answer. The rules below mirror ``Settings`` for the three settings read.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

from gnomon.data.entities import FileEntry
from gnomon.data.hashing import DIGEST_CACHE, DigestCache
from gnomon.data.manifests import build_manifest
from gnomon.data.scan import scan

_LATEST = """
SELECT v.version, v.files, v.bytes, v.manifest_digest
FROM datasets d
JOIN workspaces w ON w.id = d.workspace_id
JOIN dataset_versions v ON v.dataset_id = d.id AND v.version = d.latest_version
WHERE w.name = ? AND d.name = ?
"""


def home() -> Path:
    return Path(os.environ.get("GNOMON_HOME") or Path.home() / ".gnomon")


def _plain_environment() -> bool:
    # An empty GNOMON_HOME or GNOMON_URI means something subtler to Settings: not for us.
    return all(os.environ.get(key, None) != "" for key in ("GNOMON_HOME", "GNOMON_URI"))


def unchanged(path: Path, name: str, workspace: str | None) -> dict[str, object] | None:
    """What ``add`` reports when ``path`` holds exactly the latest version of ``name``; None
    when that cannot be told cheaply."""
    database = _sqlite_file() if _plain_environment() else None
    if database is None or not database.is_file():
        return None
    try:
        found = scan(path, DigestCache(home() / DIGEST_CACHE), read=False)
    except Exception:  # the full path reports every problem with its proper error
        return None
    if found is None:
        return None
    manifest = build_manifest([FileEntry(f.path, f.digest, f.size) for f in found.files])
    workspace = workspace or os.environ.get("GNOMON_WORKSPACE") or "default"
    try:
        with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True) as conn:
            row = conn.execute(_LATEST, (workspace, name)).fetchone()
    except sqlite3.Error:  # not migrated yet, locked, unreadable: the full path knows
        return None
    if row is None or row[3] != manifest.digest:
        return None
    version, files, size, digest = row
    return {
        "name": name,
        "version": version,
        "ref": f"{name}@{version}",
        "created": False,
        "files": files,
        "bytes": size,
        "new_objects": 0,
        "new_bytes": 0,
        "manifest_digest": digest,
        "validation": None,
    }


def _sqlite_file() -> Path | None:
    uri = os.environ.get("GNOMON_URI")
    if not uri:
        return home() / "gnomon.db"
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or "?" in uri:
        return None
    return Path(uri[len(prefix) :])


_VALUED = {"--name": "name", "-n": "name", "--output": "output", "-o": "output"}
_VALUED |= {"--workspace": "workspace", "--message": "message", "-m": "message"}


def answer_argv(args: list[str]) -> bool:
    """Answer ``gnomon data add PATH --name NAME [-o json] [--workspace W] [-m TEXT]`` for
    unchanged data before Typer parses the line (its parameter handling imports pydantic:
    150 ms). Any other shape, or an answer not known cheaply: False, and the CLI answers."""
    if args[:2] != ["data", "add"]:
        return False
    values: dict[str, str] = {}
    paths: list[str] = []
    rest = iter(args[2:])
    for token in rest:
        if token in _VALUED:
            value = next(rest, None)
            if value is None or _VALUED[token] in values:
                return False
            values[_VALUED[token]] = value
        elif token.startswith("-"):
            return False  # --help, --debug, --name=x...: the CLI's own parsing
        else:
            paths.append(token)
    output = values.get("output", "table")
    if len(paths) != 1 or "name" not in values or output not in ("table", "json"):
        return False
    known = unchanged(Path(paths[0]), values["name"], values.get("workspace"))
    if known is None:
        return False
    if output == "json":
        sys.stdout.write(json.dumps(known, indent=2) + "\n")  # as print_json writes it
    else:
        sys.stdout.write(f"unchanged: {known['ref']} already holds this content\n")
    return True
