"""W4 on gnomon: materialise W4's source (1,000,000 rows, 100,000 entities, 10 float features)
into the SQLite online store, then online lookups of one entity and of 100; prints one JSON line.

The job runs as a fresh child process (``--job``), its peak memory that child's ``ru_maxrss``
(``os.wait4``, as W6). In it: ``materialize`` of the view (its DuckDB read, the latest row per
entity, the writes; no progress bar) is timed, then the online store's ``read`` of the view,
in process, as gnomon's get path runs it: 2,000 single-entity reads after 200 untimed ones,
and 200 reads of 100 entities after 20; then 500 entities' values are checked against their
latest source row.
"""

from __future__ import annotations

import compileall
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.workloads._common import emit, load, parser, run_child

SOURCES = Path(__file__).resolve().parents[2] / "src" / "gnomon"
WORKSPACE = "default"


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _timed(call: Any, arguments: list[Any], warm: int) -> list[float]:
    for argument in arguments[:warm]:
        call(argument)
    samples = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        samples.append(time.perf_counter() - started)
    return samples


def _job(data: dict[str, Any], workdir: Path) -> None:
    started = time.perf_counter()
    from gnomon.features.definitions import Entity, FeatureView, Field, FileSource
    from gnomon.features.materialize import materialize
    from gnomon.features.online import OnlineView
    from gnomon.features.online_sqlite import SqliteOnlineStore
    from gnomon.features.specs import Catalog

    imported = time.perf_counter()
    view = FeatureView(
        "w4",
        ("entity",),
        FileSource(data["source"]),
        tuple(Field(name) for name in data["features"]),
        timestamp_field=data["timestamp_field"],
        created_timestamp_field=data["created_field"],
    )
    catalog = Catalog({"entity": Entity("entity", (data["join_key"],))}, {"w4": view})
    store = SqliteOnlineStore(workdir / "online.db")
    done = materialize(catalog, "w4", store, WORKSPACE, progress=False)
    materialized = time.perf_counter()
    online = OnlineView.of(view, catalog.join_keys(view))

    def get(keys: list[tuple[int, ...]]) -> list[dict[str, Any] | None]:
        return store.read(WORKSPACE, online, keys).values

    single = _timed(get, [[(entity,)] for entity in data["single"]], 200)
    batches = _timed(get, [[(e,) for e in batch] for batch in data["batches"]], 20)
    found = get([(entity,) for entity in data["checked"]])
    names = data["features"]
    mismatches = sum(
        row is None or [row[name] for name in names] != want
        for row, want in zip(found, data["expected"], strict=True)
    )
    emit(
        {
            "materialize_s": done.seconds,
            "materialize_wall_s": materialized - imported,
            "entities": done.entities_written,
            "rows_read": done.rows_read,
            "get1_p50_us": statistics.median(single) * 1e6,
            "get1_p99_us": _percentile(single, 0.99) * 1e6,
            "get100_p50_ms": statistics.median(batches) * 1e3,
            "get100_p99_ms": _percentile(batches, 0.99) * 1e3,
            "mismatches": mismatches,
            "import_s": imported - started,
            "db_mb": sum(p.stat().st_size for p in workdir.glob("online.db*")) / 2**20,
        }
    )


def main() -> None:
    arguments = parser()
    arguments.add_argument("--job", action="store_true", help="run the timed job itself")
    args = arguments.parse_args()
    data = load(args.data)
    if args.job:
        _job(data, args.workdir)
        return
    compileall.compile_dir(SOURCES, quiet=2)  # as an installed package is (see w8.py)
    command = [sys.executable, "-m", "bench.workloads.w4", "--job"]
    seconds, peak_mb, out = run_child(
        [*command, "--data", str(args.data), "--workdir", str(args.workdir)], args.workdir, "w4"
    )
    job = json.loads(out.strip().splitlines()[-1])
    emit({**job, "peak_mb": peak_mb, "process_seconds": seconds})


if __name__ == "__main__":
    main()
