"""Reading the Helm chart in deploy/helm/gnomon without Helm: its values, the `.Values` paths
and functions its templates use, and (where the `helm` binary exists) its rendering."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests import helm_binary

CHART = Path(__file__).resolve().parents[3] / "deploy" / "helm" / "gnomon"
TEMPLATES = CHART / "templates"

# The functions the templates may call: Go's and Sprig's that any Helm 3 has, kept few so a
# reader needs no Helm reference (deploy/helm/README.md lists them).
FUNCTIONS = {
    "include", "printf", "default", "required", "quote", "toYaml", "nindent",
    "trunc", "trimSuffix", "contains", "dict", "hasKey", "empty", "not",
}  # fmt: skip
_KEYWORDS = {"define", "if", "else", "end", "range", "with", "template", "block", "true", "false"}
_OPENERS = {"if", "range", "with", "define", "block"}
_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
_VALUES = re.compile(r"(?<![\w.])\$?\.Values((?:\.[A-Za-z_]\w*)+)")
_WORD = re.compile(r"(?<![\w.$])([A-Za-z_]\w*)")


def templates() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(TEMPLATES.iterdir())}


def actions(text: str) -> list[str]:
    """The code of every ``{{ }}`` action, comments dropped."""
    found = [m.group(1).strip() for m in _ACTION.finditer(text)]
    return [code for code in found if not code.startswith("/*")]


def values_paths(text: str) -> set[tuple[str, ...]]:
    """Every ``.Values.a.b`` (or ``$.Values.a.b``) path the template reads."""
    return {tuple(m.group(1).strip(".").split(".")) for m in _VALUES.finditer(text)}


def functions(code: str) -> set[str]:
    """The names an action calls: words that are not keywords, fields or variables."""
    return {w for w in _WORD.findall(_STRING.sub('""', code)) if w not in _KEYWORDS}


def unbalanced(text: str) -> str | None:
    """What is wrong with the nesting of the template's blocks, or None."""
    depth = 0
    for code in actions(text):
        word = code.split(maxsplit=1)[0] if code else ""
        if word in _OPENERS:
            depth += 1
        elif word == "end":
            depth -= 1
            if depth < 0:
                return "an end without a block"
    if text.count("{{") != text.count("}}"):
        return "unmatched braces"
    return None if depth == 0 else f"{depth} block(s) never ended"


def has_path(values: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(values, dict) or key not in values:
            return False
        values = values[key]
    return True


def merged(defaults: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Values as Helm merges a ``-f`` file over values.yaml: maps deeply, the rest replaced."""
    result = dict(defaults)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def helm_template(kube_version: str, *values: Path) -> list[dict[str, Any]]:
    """The objects ``helm template`` renders for the release ``ml``."""
    helm = helm_binary.found()
    assert helm is not None
    command = [helm, "template", "ml", str(CHART), "--kube-version", kube_version]
    for path in values:
        command += ["-f", str(path)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]
