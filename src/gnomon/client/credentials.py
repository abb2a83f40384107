"""``~/.gnomon/credentials``: tokens saved by ``gnomon login``, one per server URL.

The file is created readable by its owner only; it holds secrets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FILE_NAME = "credentials"


def token_for(home: Path, server_url: str) -> str | None:
    tokens = _read(home / FILE_NAME)
    return tokens.get(_normalise(server_url))


def save_token(home: Path, server_url: str, token: str) -> Path:
    path = home / FILE_NAME
    tokens = _read(path)
    tokens[_normalise(server_url)] = token
    home.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
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
    descriptor = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
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
