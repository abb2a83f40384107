"""docs/security.md names a test for every promise: each one it names must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "security.md"


def _named() -> list[tuple[str, str | None]]:
    """(test file, test name) pairs; a bare ``::name`` belongs to the last file named above
    it in the same section."""
    pairs: list[tuple[str, str | None]] = []
    current: str | None = None
    for line in DOC.read_text().splitlines():
        if line.startswith("#"):
            current = None
        for path, name in re.findall(r"`([\w/]+\.py)?(?:::(\w+))?[^`]*`", line):
            if path:
                current = path
            if current and (path or name):
                pairs.append((current, name or None))
    return pairs


def test_every_test_the_threat_model_names_exists() -> None:
    pairs = _named()
    assert len(pairs) > 40
    missing = []
    for path, name in pairs:
        file = ROOT / "tests" / path
        if not file.is_file():
            missing.append(path)
        elif name and not re.search(rf"(def|class) {name}\b", file.read_text()):
            missing.append(f"{path}::{name}")
    assert not missing, f"docs/security.md names tests that do not exist: {missing}"
