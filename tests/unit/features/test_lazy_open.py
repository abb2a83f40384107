"""Opening gnomon builds every capability, the feature store included: that must not load
DuckDB (or the feature client's pandas and Arrow) before the feature store is used; every
CLI command and script start pays for what opening loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
import gnomon
client = gnomon.Client()
client.feature_registry  # built, as every capability is
print(sorted(m for m in ("duckdb", "gnomon.features.feature_client") if m in sys.modules))
client.features.catalog()  # used: now it loads
print("gnomon.features.feature_client" in sys.modules)
"""


def test_opening_gnomon_loads_no_feature_store_engine(tmp_path: Path) -> None:
    env = {**os.environ, "GNOMON_HOME": str(tmp_path / "home")}
    env.pop("GNOMON_URI", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "True"]
