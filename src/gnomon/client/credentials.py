"""``~/.gnomon/credentials``: tokens saved by ``gnomon login``, one per server URL.

The file (0600) and the folder it creates (0700) are its owner's only, whatever the
umask: it holds secrets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from gnomon._private_files import make_private_dirs, open_private

FILE_NAME = "credentials"


def token_for(home: Path, server_url: str) -> str | None:
    tokens = _read(home / FILE_NAME)
    return tokens.get(_normalise(server_url))


def save_token(home: Path, server_url: str, token: str) -> Path:
    path = home / FILE_NAME
    tokens = _read(path)
    tokens[_normalise(server_url)] = token
    make_private_dirs(home)
    temporary = path.with_suffix(".tmp")
    # O_TRUNC, not O_EXCL: a .tmp left by a crash is rewritten, and made 0600 again.
    descriptor = open_private(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(descriptor, "w") as sink:
        json.dump(tokens, sink, indent=2, sort_keys=True)
    os.replace(temporary, path)
    return path


def forget_token(home: Path, server_url: str) -> bool:
    path = home / FILE_NAME
    tokens = _read(path)
    if tokens.pop(_normalise(server_url), None) is None:
        return False
    save_all = json.dumps(tokens, indent=2, sort_keys=True)
    descriptor = open_private(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(descriptor, "w") as sink:
        sink.write(save_all)
    return True


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _normalise(url: str) -> str:
    return url.rstrip("/").lower()
