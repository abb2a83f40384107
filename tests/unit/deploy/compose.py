"""Reading deploy/compose as Docker Compose does, without Docker: its `.env` variables
interpolated into the file (the Compose Specification's rules), its services' mounts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

STACK = Path(__file__).resolve().parents[3] / "deploy" / "compose"
COMPOSE = STACK / "docker-compose.yml"

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_]\w*))"
)


class Unset(Exception):
    """A ``${VAR:?message}`` whose variable is unset (or empty): Compose refuses to start."""


def env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines; comments and blank lines skipped."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines())
    return {name.strip(): value for name, value in (p for p in pairs if len(p) == 2)
            if not name.lstrip().startswith("#")}  # fmt: skip


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` with every ``${...}`` replaced, in every string of a nested document."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, str):
        return _VARIABLE.sub(lambda match: _substitute(match, env), value)
    return value


def _substitute(match: re.Match[str], env: dict[str, str]) -> str:
    if match["escaped"]:
        return "$"
    name = match["braced"] or match["bare"]
    op, arg = match["op"], match["arg"] or ""
    given = env.get(name)
    empty = given is None or (given == "" and op is not None and op.startswith(":"))
    if op in ("-", ":-"):
        return arg if empty else str(given)
    if op in ("?", ":?"):
        if empty:
            raise Unset(f"{name}: {arg}")
        return str(given)
    if op in ("+", ":+"):
        return "" if empty else arg
    return given or ""


def variables(text: str) -> set[str]:
    """The names of every variable the text interpolates (not ``$$`` escapes)."""
    return {m["braced"] or m["bare"] for m in _VARIABLE.finditer(text) if not m["escaped"]}


def load(env: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = interpolate(yaml.safe_load(COMPOSE.read_text()), env)
    return document


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """The service's volumes, container path to source (a named volume or a host path)."""
    found = {}
    for entry in service.get("volumes", []):
        source, target = entry.split(":")[:2]
        found[target] = source
    return found


def host_path(source: str) -> Path | None:
    """The file or folder a bind mount's source names, or None for a named volume."""
    return (STACK / source).resolve() if source.startswith((".", "/")) else None


def in_container(service: dict[str, Any], path: str) -> tuple[str, Path | str] | None:
    """Which mount holds ``path`` in the container: (its target, the host path or the named
    volume's name), or None when the path is on the image's own filesystem."""
    for target, source in sorted(mounts(service).items(), key=lambda m: -len(m[0])):
        if path == target or path.startswith(target.rstrip("/") + "/"):
            host = host_path(source)
            return target, (host / path[len(target) :].lstrip("/")) if host else source
    return None
