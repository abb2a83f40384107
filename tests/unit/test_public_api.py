from __future__ import annotations

import subprocess
import sys

import gnomon


def test_all_matches_exports() -> None:
    public = {name for name in dir(gnomon) if not name.startswith("_")} | {"__version__"}
    assert set(gnomon.__all__) == public
    for name in gnomon.__all__:
        assert getattr(gnomon, name) is not None


def _loaded(statements: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``statements``."""
    code = f"import sys; {statements}; print(*(m for m in {modules!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_import_is_light() -> None:
    """``import gnomon`` (and reaching the fluent API) loads no database, web or data stack."""
    heavy = ("sqlalchemy", "fastapi", "pandas", "alembic", "s3fs", "typer")
    assert _loaded("import gnomon; gnomon.log_metric; gnomon.Client", heavy) == []


def test_a_pipeline_worker_starts_light() -> None:
    """What the local executor's fork server preloads before any step: no database, no
    settings, no package metadata (each worker is forked from it)."""
    heavy = ("sqlalchemy", "pydantic", "importlib.metadata", "urllib.request")
    assert _loaded("import gnomon.pipelines.local", heavy) == []
