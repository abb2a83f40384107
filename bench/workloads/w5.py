"""W5 on gnomon: a point-in-time training set of W5's entity frame (100,000 rows of entity,
time and a row id) against W4's 1,000,000-row source (10 float features, 2-day TTL); prints
one JSON line.

The job runs as a fresh child process (``--job``): it reads the entity frame with pyarrow into
pandas (as the Feast side does), builds the catalog (an entity and a view over the source
file) and times ``gnomon.features.offline.training_frame`` from the frame to the pandas
answer, its DuckDB connection included. Its peak memory is the child's ``ru_maxrss`` right
after the call (``base_mb`` before it; ``process_peak_mb``, from ``run_child``, also counts
writing the answer out for the check). The answer is written to Parquet and checked here,
row by row, against the brute-force one (``bench.data.w5_check``, which the Feast side runs too).
"""

from __future__ import annotations

import compileall
import json
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.data import w5_check
from bench.workloads._common import emit, load, parser, run_child

SOURCES = Path(__file__).resolve().parents[2] / "src" / "gnomon"


def _job(data: dict[str, Any], join: Any, out: Path) -> None:
    started = time.perf_counter()
    import pyarrow.parquet as pq

    from gnomon.features.definitions import Entity, FeatureView, Field, FileSource
    from gnomon.features.offline import training_frame
    from gnomon.features.specs import Catalog

    imported = time.perf_counter()
    view = FeatureView(
        name="w5",
        entities=("entity",),
        source=FileSource(data["source"]),
        schema=tuple(Field(f) for f in data["features"]),
        timestamp_field=data["timestamp_field"],
        created_timestamp_field=data["created_field"],
        ttl=timedelta(seconds=data["ttl_s"]),
    )
    entity = Entity("entity", (data["join_key"],))
    catalog = Catalog(entities={"entity": entity}, views={"w5": view})
    chosen = catalog.resolve(["w5"])
    entities = pq.ParquetFile(data["entities"]).read().to_pandas()
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ready = time.perf_counter()
    frame = training_frame(None, catalog, entities, chosen, join=join)
    done = time.perf_counter()
    # the peak so far: writing the answer out for the check is the harness's, not the call's
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    frame[["row_id", *data["features"]]].to_parquet(out)
    emit(
        {
            "seconds": done - ready,
            "import_seconds": imported - started,
            "base_mb": base_mb,
            "peak_mb": peak_mb,
            "join": join,
        }
    )


def main() -> None:
    arguments = parser()
    arguments.add_argument("--job", action="store_true", help="run the timed job itself")
    arguments.add_argument("--join", default="auto", choices=("auto", "hash", "asof"))
    args = arguments.parse_args()
    data = load(args.data)
    out = args.workdir / "answer.parquet"
    if args.job:
        _job(data, args.join, out)
        return
    compileall.compile_dir(SOURCES, quiet=2)  # as an installed package is (see w8.py)
    command = [sys.executable, "-m", "bench.workloads.w5", "--job", "--join", args.join]
    process_seconds, process_peak_mb, stdout = run_child(
        [*command, "--data", str(args.data), "--workdir", str(args.workdir)], args.workdir, "w5"
    )
    job = json.loads(stdout.strip().splitlines()[-1])
    emit(
        {
            **job,
            "call_mb": job["peak_mb"] - job["base_mb"],
            "process_peak_mb": process_peak_mb,
            "process_seconds": process_seconds,
            **w5_check(data, out),
        }
    )


if __name__ == "__main__":
    main()
