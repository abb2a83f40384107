from __future__ import annotations

import subprocess
import sys

import gnomon


def test_all_matches_exports() -> None:
    public = {name for name in dir(gnomon) if not name.startswith("_")} | {"__version__"}
    assert set(gnomon.__all__) == public
    for name in gnomon.__all__:
        assert getattr(gnomon, name) is not None


def test_import_is_light() -> None:
    """``import gnomon`` (and reaching the fluent API) loads no database, web or data stack."""
    code = (
        "import sys, gnomon; gnomon.log_metric; gnomon.Client; "
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'pandas', 'alembic', 's3fs', 'typer') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_a_pipeline_worker_starts_light() -> None:
    """What the local executor's fork server preloads before any step: no database, no
    settings, no package metadata (each worker is forked from it)."""
    code = (
        "import sys, gnomon.pipelines.local; "
        "heavy = [m for m in ('sqlalchemy', 'pydantic', 'importlib.metadata', 'urllib.request') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
