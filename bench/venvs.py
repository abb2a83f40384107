"""Peer systems: each lives in its own virtualenv under ``bench/.peers/<name>/``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / ".peers"
MARKER = "installed.txt"


@dataclass(frozen=True, slots=True)
class Peer:
    """A peer package pinned to one version, installed once into its own venv."""

    name: str
    requirement: str  # one or more space-separated requirements, installed together

    @property
    def venv(self) -> Path:
        return PEERS_DIR / self.name

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def script(self, workload: str) -> Path:
        return BENCH_DIR / "peers" / f"{self.name}_{workload.lower()}.py"

    def is_installed(self) -> bool:
        marker = self.venv / MARKER
        return self.python.exists() and marker.exists() and marker.read_text() == self.requirement


# The model libraries match gnomon's own venv, so MLflow saves the models gnomon imports
# (tests/unit/registry/test_mlflow_model_import.py) with the versions gnomon loads them with.
MLFLOW = Peer(
    name="mlflow",
    requirement="mlflow==3.17.2 xgboost-cpu==3.2.0 lightgbm==4.7.0 scikit-learn==1.9.1",
)

# W8's peer. Installed when W8 runs (the runner's ``ensure``), not by ``main``: ``make test``
# installs the peers the tests need, and none needs DVC.
DVC = Peer(name="dvc", requirement="dvc==3.67.1")

# W6's peer, installed when W6 runs, like DVC. Evidently 0.7 fails to import under pandas 3.
EVIDENTLY = Peer(name="evidently", requirement="evidently==0.7.23 pandas<3")

# W7's peers (pipeline overhead), each installed when W7 runs. Prefect's API server needs
# FastAPI; pinned so its ephemeral server is the same every run.
DAGSTER = Peer(name="dagster", requirement="dagster==1.13.29")
PREFECT = Peer(name="prefect", requirement="prefect==3.8.8 fastapi==0.150.0")
METAFLOW = Peer(name="metaflow", requirement="metaflow==2.19.39")
ZENML = Peer(name="zenml", requirement="zenml[local]==0.98.0")


def _uv() -> Path | None:
    candidate = Path(sys.executable).parent / "uv"
    if candidate.exists():
        return candidate
    found = shutil.which("uv")
    return Path(found) if found else None


def _install_command(peer: Peer) -> list[str]:
    uv = _uv()
    if uv is not None:
        # Bytecode now: the peer's processes run with PYTHONDONTWRITEBYTECODE (as ours do), and
        # recompiling the package in every timed process would slow the peer, not measure it.
        return [
            str(uv),
            "pip",
            "install",
            "--compile-bytecode",
            "--python",
            str(peer.python),
            *peer.requirement.split(),
        ]
    return [str(peer.python), "-m", "pip", "install", "--quiet", *peer.requirement.split()]


def ensure(peer: Peer) -> Path:
    """Create the peer's venv and install it unless the marker says it is there; its python."""
    if peer.is_installed():
        return peer.python
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    if not peer.python.exists():
        base = shutil.which("python3") or sys.executable
        subprocess.run([base, "-m", "venv", str(peer.venv)], check=True)
    print(f"installing {peer.requirement} into {peer.venv} (once)", file=sys.stderr)
    subprocess.run(_install_command(peer), check=True)
    (peer.venv / MARKER).write_text(peer.requirement)
    return peer.python


def main() -> None:
    ensure(MLFLOW)


if __name__ == "__main__":
    main()
