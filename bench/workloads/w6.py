"""W6 on gnomon: a drift report of a current Parquet file against a reference one (20 numeric
and 5 text columns; 5 numeric shifted, 1 text re-weighted); prints one JSON line.

The job runs as a fresh child process (``--job``), timed from its start to its exit: the
interpreter's start, the imports, reading both files with pyarrow (text columns as
dictionaries), preparing the ``Reference`` (the table then dropped, as a monitor keeps only the
prepared reference) and the report with the default config. Its peak memory is that child's
``ru_maxrss``, read with ``os.wait4`` (as PROF does). The child prints the flagged columns and
the seconds of its phases.
"""

from __future__ import annotations

import compileall
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.workloads._common import emit, load, parser, run_child

SOURCES = Path(__file__).resolve().parents[2] / "src" / "gnomon"


def _read(pq: Any, path: str, text: list[str]) -> Any:
    # One file: ParquetFile, as ``pq.read_table`` would first import pyarrow.dataset (0.25 s)
    return pq.ParquetFile(path, read_dictionary=text).read()


def _job(data: dict[str, Any]) -> None:
    started = time.perf_counter()
    import pyarrow.parquet as pq

    from gnomon.monitoring.drift import DriftConfig, Reference, drift_report

    imported = time.perf_counter()
    kinds: dict[str, Any] = {name: "numeric" for name in data["numeric"]}
    kinds.update({name: "categorical" for name in data["categorical"]})
    table = _read(pq, data["reference"], data["categorical"])
    reference = Reference.from_columns(table, kinds)
    del table
    prepared = time.perf_counter()
    current = _read(pq, data["current"], data["categorical"])
    report = drift_report(reference, current, DriftConfig())
    done = time.perf_counter()
    tests = sorted({column.test for column in report.columns})
    emit(
        {
            "flagged": sorted(report.drifted),
            "import_seconds": imported - started,
            "reference_seconds": prepared - imported,
            "report_seconds": done - prepared,
            "tests": ",".join(tests),
            "dataset_drift": report.dataset_drift,
        }
    )


def main() -> None:
    arguments = parser()
    arguments.add_argument("--job", action="store_true", help="run the timed job itself")
    args = arguments.parse_args()
    data = load(args.data)
    if args.job:
        _job(data)
        return
    compileall.compile_dir(SOURCES, quiet=2)  # as an installed package is (see w8.py)
    command = [sys.executable, "-m", "bench.workloads.w6", "--job"]
    seconds, peak_mb, out = run_child(
        [*command, "--data", str(args.data), "--workdir", str(args.workdir)], args.workdir, "w6"
    )
    job = json.loads(out.strip().splitlines()[-1])
    emit(
        {
            "seconds": seconds,
            "peak_mb": peak_mb,
            "work_seconds": job["reference_seconds"] + job["report_seconds"],
            **job,
            "flagged_count": len(job["flagged"]),
            "rows": data["rows"],
        }
    )


if __name__ == "__main__":
    main()
