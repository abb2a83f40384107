"""W5 on Feast 0.67: ``get_historical_features`` of W5's entity frame against the W4 source,
DuckDB offline store; prints one JSON line.

Runs inside the Feast peer venv (``bench/.peers/feast``); imports neither gnomon nor bench.
This process writes a feature repo (``feature_store.yaml``: local provider, duckdb offline
store, sqlite online store) under the workdir and applies the entity and the view (not timed).
The job is then a fresh child process (``--job``): it opens the store, reads the entity frame
with pyarrow into pandas (as the gnomon side does), and times ``get_historical_features(...)
.to_df()``; its peak memory is the child's ``ru_maxrss`` right after the call
(``process_peak_mb``: at its exit, the answer written out too). Feast does not keep the frame's
order, so its answer is sorted by ``row_id`` before it is checked against the brute-force one.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import subprocess
import sys
import sysconfig
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ENV = {"FEAST_USAGE": "False", "DO_NOT_TRACK": "1"}  # no usage reporting (there is no network)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--job", action="store_true")
    return parser.parse_args()


def _repo(data: dict[str, Any], repo: Path) -> None:
    """The feature repo's config, and the entity and view applied to its registry."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64

    repo.mkdir()
    (repo / "feature_store.yaml").write_text(
        "project: w5\nprovider: local\n"
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
    view = FeatureView(
        name="w5",
        entities=[entity],
        ttl=timedelta(seconds=data["ttl_s"]),
        schema=[Field(name=f, dtype=Float64) for f in data["features"]],
        source=source,
        online=False,
    )
    FeatureStore(repo_path=str(repo)).apply([entity, view])


def _job(data: dict[str, Any], repo: Path, out: Path) -> None:
    started = time.perf_counter()
    import pyarrow.parquet as pq
    from feast import FeatureStore

    imported = time.perf_counter()
    store = FeatureStore(repo_path=str(repo))
    entities = pq.ParquetFile(data["entities"]).read().to_pandas()
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ready = time.perf_counter()
    refs = [f"w5:{f}" for f in data["features"]]
    frame = store.get_historical_features(entity_df=entities, features=refs).to_df()
    done = time.perf_counter()
    # the peak so far: writing the answer out for the check is the harness's, not the call's
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    frame[["row_id", *data["features"]]].to_parquet(out)
    print(
        json.dumps(
            {
                "seconds": done - ready,
                "import_seconds": imported - started,
                "open_seconds": ready - imported,
                "base_mb": base_mb,
                "peak_mb": peak_mb,
            }
        ),
        flush=True,
    )


def _child(args: list[str], workdir: Path) -> tuple[float, float, str]:
    """Seconds and peak resident MB of one child process, and its stdout."""
    out, err = workdir / "stdout", workdir / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=stdout, stderr=stderr, env={**os.environ, **ENV})
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"feast job failed: {err.read_text().strip()[-800:]}")
    return seconds, usage.ru_maxrss / 1024, out.read_text()  # Linux: ru_maxrss in KiB


def _check(data: dict[str, Any], out: Path) -> dict[str, Any]:
    """Rows of the answer that differ from the brute-force one (nulls equal nulls), whether
    it kept the frame's order, and how many rows have values (as bench/workloads/w5.py)."""
    import numpy as np
    import pandas as pd

    got, expected = pd.read_parquet(out), pd.read_parquet(data["expected"])
    order_kept = len(got) == len(expected) and bool(
        (got["row_id"].to_numpy() == expected["row_id"].to_numpy()).all()
    )
    got = got.sort_values("row_id", kind="stable").reset_index(drop=True)
    if len(got) != len(expected) or not (got["row_id"] == expected["row_id"]).all():
        return {"rows": len(got), "mismatches": len(expected), "order_kept": order_kept}
    a, b = got[data["features"]].to_numpy(float), expected[data["features"]].to_numpy(float)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return {
        "rows": len(got),
        "mismatches": int((~same.all(axis=1)).sum()),
        "order_kept": order_kept,
        "matched": int((~np.isnan(a).all(axis=1)).sum()),
    }


def main() -> None:
    args = _parse()
    data = json.loads(args.data.read_text())
    repo, out = args.workdir / "feast_repo", args.workdir / "answer.parquet"
    if args.job:
        _job(data, repo, out)
        return
    os.environ.update(ENV)
    # uv installs no .pyc files; compiled once here (untimed), as a pip install would
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=2, workers=0)
    _repo(data, repo)
    tail = ["--data", str(args.data), "--workdir", str(args.workdir)]
    process_seconds, process_peak_mb, stdout = _child(
        [sys.executable, __file__, "--job", *tail], args.workdir
    )
    job = json.loads(stdout.strip().splitlines()[-1])
    from importlib.metadata import version

    print(
        json.dumps(
            {
                **job,
                "call_mb": job["peak_mb"] - job["base_mb"],
                "process_peak_mb": process_peak_mb,
                "process_seconds": process_seconds,
                **_check(data, out),
                "version": version("feast"),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
