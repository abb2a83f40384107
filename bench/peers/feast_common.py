"""W4 and W5's harness for the Feast peer scripts: their arguments, the feature repo (its
config, the entity and the view applied to its registry; not timed), and the timed job as a
fresh child process, its peak memory that child's ``ru_maxrss``.

Imported by the peer scripts beside it (their folder is first on ``sys.path``); imports
neither gnomon nor bench, and Feast only inside functions.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import sysconfig
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ENV = {"FEAST_USAGE": "False", "DO_NOT_TRACK": "1"}  # no usage reporting (there is no network)


def parse() -> argparse.Namespace:
    """``--data`` and ``--workdir`` as every workload script takes them; ``--job``: run the
    timed job itself."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--job", action="store_true")
    return parser.parse_args()


def prepare(
    data: dict[str, Any], repo: Path, view: str, *, online: bool, ttl_s: float = 0.0
) -> None:
    """Untimed: usage reporting off, the venv byte-compiled, and the repo (``feature_store.yaml``:
    local provider, DuckDB offline store, SQLite online store) with the entity and the view
    ``view`` of the source's features (``ttl_s``: its TTL; 0, Feast's default, is none) applied."""
    os.environ.update(ENV)
    # uv installs no .pyc files; compiled once here (untimed), as a pip install would
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=2, workers=0)
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64

    repo.mkdir()
    (repo / "feature_store.yaml").write_text(
        f"project: {view}\nprovider: local\n"
        f"registry: {repo / 'registry.db'}\n"
        f"online_store:\n  type: sqlite\n  path: {repo / 'online.db'}\n"
        "offline_store:\n  type: duckdb\n"
        "entity_key_serialization_version: 3\n"
    )
    entity = Entity(name="entity", join_keys=[data["join_key"]], value_type=ValueType.INT64)
    source = FileSource(
        path=data["source"],
        timestamp_field=data["timestamp_field"],
        created_timestamp_column=data["created_field"],
    )
    feature_view = FeatureView(
        name=view,
        entities=[entity],
        schema=[Field(name=f, dtype=Float64) for f in data["features"]],
        source=source,
        online=online,
        ttl=timedelta(seconds=ttl_s),
    )
    FeatureStore(repo_path=str(repo)).apply([entity, feature_view])


def run_job(script: str, args: argparse.Namespace) -> tuple[float, float, dict[str, Any]]:
    """Seconds and peak resident MB of ``script --job`` as a fresh child process, and the JSON
    line it printed; exits with its error's tail if it fails."""
    tail = ["--data", str(args.data), "--workdir", str(args.workdir)]
    out, err = args.workdir / "stdout", args.workdir / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, script, "--job", *tail],
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, **ENV},
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"feast job failed: {err.read_text().strip()[-800:]}")
    job: dict[str, Any] = json.loads(out.read_text().strip().splitlines()[-1])
    return seconds, usage.ru_maxrss / 1024, job  # Linux: ru_maxrss in KiB


def emit(figures: dict[str, Any]) -> None:
    """Print the figures as the one JSON line the runner (or ``run_job``) reads."""
    print(json.dumps(figures), flush=True)


def feast_version() -> str:
    from importlib.metadata import version

    return version("feast")
