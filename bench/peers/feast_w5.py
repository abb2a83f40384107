"""W5 on Feast 0.67: ``get_historical_features`` of W5's entity frame against the W4 source,
DuckDB offline store; prints one JSON line.

Runs inside the Feast peer venv (``bench/.peers/feast``); imports no gnomon, and of bench
only ``bench/data.py``'s ``w5_check`` (by path, as ``mlflow_w3.py`` loads ``bench/w3_model.py``),
so that both sides' answers are checked by the same code. This process writes the feature repo
under the workdir (``feast_common.prepare``, not timed).
The job is then a fresh child process (``--job``): it opens the store, reads the entity frame
with pyarrow into pandas (as the gnomon side does), and times ``get_historical_features(...)
.to_df()``; its peak memory is the child's ``ru_maxrss`` right after the call
(``process_peak_mb``: at its exit, the answer written out too). Feast does not keep the frame's
order, so its answer is sorted by ``row_id`` before it is checked against the brute-force one.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import feast_common

VIEW = "w5"


def _job(data: dict[str, Any], repo: Path, out: Path) -> None:
    started = time.perf_counter()
    import pyarrow.parquet as pq
    from feast import FeatureStore

    imported = time.perf_counter()
    store = FeatureStore(repo_path=str(repo))
    entities = pq.ParquetFile(data["entities"]).read().to_pandas()
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ready = time.perf_counter()
    refs = [f"{VIEW}:{f}" for f in data["features"]]
    frame = store.get_historical_features(entity_df=entities, features=refs).to_df()
    done = time.perf_counter()
    # the peak so far: writing the answer out for the check is the harness's, not the call's
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    frame[["row_id", *data["features"]]].to_parquet(out)
    feast_common.emit(
        {
            "seconds": done - ready,
            "import_seconds": imported - started,
            "open_seconds": ready - imported,
            "base_mb": base_mb,
            "peak_mb": peak_mb,
        }
    )


def main() -> None:
    args = feast_common.parse()
    data = json.loads(args.data.read_text())
    repo, out = args.workdir / "repo", args.workdir / "answer.parquet"
    if args.job:
        _job(data, repo, out)
        return
    feast_common.prepare(data, repo, VIEW, online=False, ttl_s=data["ttl_s"])
    process_seconds, process_peak_mb, job = feast_common.run_job(__file__, args)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root
    from bench.data import w5_check

    feast_common.emit(
        {
            **job,
            "call_mb": job["peak_mb"] - job["base_mb"],
            "process_peak_mb": process_peak_mb,
            "process_seconds": process_seconds,
            **w5_check(data, out),
            "version": feast_common.feast_version(),
        }
    )


if __name__ == "__main__":
    main()
