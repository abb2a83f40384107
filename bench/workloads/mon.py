"""MON on gnomon: one monitor run over a day of a deployment's prediction records at 300 a
second (MONq: two hours), one-hour windows against the model's training data; prints one
JSON line.

Setup, not timed (``mon_records``): this repetition's gnomon home gets the training dataset
version, the model trained on it and the deployment ``web``; the records are generated once per
invocation, beside the data file, and hard-linked into this home's predictions store (a monitor
only reads them). The job runs as a fresh child process (``--job``): ``monitors.create`` (the
reference read, the outlier detector fitted) and ``monitors.run`` up to the records' end
(``until_ms``, so every repetition evaluates the same windows however late it starts), each
timed in the child; its peak memory is that child's ``ru_maxrss`` from ``os.wait4``, as W6's.
"""

from __future__ import annotations

import compileall
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.workloads import mon_records
from bench.workloads._common import emit, load, parser, run_child

SOURCES = Path(__file__).resolve().parents[2] / "src" / "gnomon"
MONITOR = "mon"


def _job(until_ms: int) -> None:
    started = time.perf_counter()
    import gnomon
    from gnomon.monitoring.entities import MonitorSpec

    monitors = gnomon.get_client().monitors
    imported = time.perf_counter()
    monitors.create(MONITOR, MonitorSpec(mon_records.DEPLOYMENT, window_s=3600))
    created = time.perf_counter()
    run = monitors.run(MONITOR, until_ms=until_ms)
    done = time.perf_counter()
    drifted = [w.details["drift"]["drifted"] for w in run.windows if w.rows]
    emit(
        {
            "import_s": imported - started,
            "create_s": created - imported,
            "run_s": done - created,
            "rows": sum(w.rows for w in run.windows),
            "windows": len(run.windows),
            "drifted_windows": sum(1 for columns in drifted if columns),
            "flagged": sorted(drifted[-1]) if drifted else [],
            "peak_mb": _high_water_mb(),
        }
    )


def _high_water_mb() -> float:
    """This process's peak resident memory since it was started (VmHWM). Not wait4's
    ru_maxrss: that high-water mark survives exec, so a child forked from the parent that
    generated the records (2.6 GB) would report the parent's size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _setup(data: dict[str, Any], data_file: Path) -> dict[str, Any]:
    """This home's dataset, model and deployment, and the records (generated on the
    invocation's first repetition); their manifest."""
    from gnomon.config import Settings
    from gnomon.predictions.storage import predictions_store

    model = mon_records.build_home(data["seed"])
    cache = data_file.parent / "mon-records"
    mon_records.cached_records(cache, model, data, time.time_ns() // 1_000_000)
    store = predictions_store(Settings().artifact_root, "default")
    return mon_records.link_records(cache, Path(store.uri("")))


def main() -> None:
    arguments = parser()
    arguments.add_argument("--job", type=int, metavar="UNTIL_MS", help="run the timed job")
    args = arguments.parse_args()
    if args.job is not None:
        _job(args.job)
        return
    data = load(args.data)
    manifest = _setup(data, args.data)
    compileall.compile_dir(SOURCES, quiet=2)  # as an installed package is (see w8.py)
    command = [sys.executable, "-m", "bench.workloads.mon", "--job", str(manifest["end_ms"])]
    seconds, _, out = run_child(
        [*command, "--data", str(args.data), "--workdir", str(args.workdir)], args.workdir, "mon"
    )
    job = json.loads(out.strip().splitlines()[-1])
    timed = job["create_s"] + job["run_s"]
    emit(
        {
            "seconds": timed,
            **job,
            "rows_per_s": job["rows"] / job["run_s"],
            "process_seconds": seconds,
            "generated_rows": manifest["rows"],
            "generate_seconds": manifest["seconds"],  # the first repetition's setup
        }
    )


if __name__ == "__main__":
    main()
