"""W6 on Evidently 0.7: ``Report([DataDriftPreset()])`` of the current Parquet file against
the reference one, the column kinds given in a ``DataDefinition``; prints one JSON line.

Runs inside the Evidently peer venv (``bench/.peers/evidently``); imports neither gnomon nor
bench. As on the gnomon side, the job is a fresh child process (``--job``) timed from start to
exit (interpreter, imports, ``pandas.read_parquet`` of both files, the report), its peak memory
that child's ``ru_maxrss``. A column is flagged as Evidently decides: a distance at or above
its threshold, a p-value below it.
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
from pathlib import Path
from typing import Any


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--job", action="store_true")
    return parser.parse_args()


def _flagged(snapshot: Any) -> list[str]:
    flagged = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith(":ValueDrift"):
            continue
        p_value = "p_value" in config["method"].lower()
        value, threshold = metric["value"], config["threshold"]
        if (value < threshold) if p_value else (value >= threshold):
            flagged.append(config["column"])
    return sorted(flagged)


def _job(data: dict[str, Any]) -> None:
    started = time.perf_counter()
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    imported = time.perf_counter()
    definition = DataDefinition(
        numerical_columns=data["numeric"], categorical_columns=data["categorical"]
    )
    reference = Dataset.from_pandas(pd.read_parquet(data["reference"]), data_definition=definition)
    prepared = time.perf_counter()
    current = Dataset.from_pandas(pd.read_parquet(data["current"]), data_definition=definition)
    snapshot = Report([DataDriftPreset()]).run(current, reference)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "flagged": _flagged(snapshot),
                "import_seconds": imported - started,
                "reference_seconds": prepared - imported,
                "report_seconds": done - prepared,
            }
        ),
        flush=True,
    )


def _child(args: list[str], workdir: Path) -> tuple[float, float, str]:
    """Seconds and peak resident MB of one child process, and its stdout."""
    out, err = workdir / "stdout", workdir / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        env = {**os.environ, "DO_NOT_TRACK": "1"}  # no usage reporting (there is no network)
        process = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"evidently job failed: {err.read_text().strip()[-800:]}")
    return seconds, usage.ru_maxrss / 1024, out.read_text()  # Linux: ru_maxrss in KiB


def main() -> None:
    args = _parse()
    data = json.loads(args.data.read_text())
    if args.job:
        _job(data)
        return
    # uv installs no .pyc files; compiled once here (untimed), as a pip install would
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=2, workers=0)
    tail = ["--data", str(args.data), "--workdir", str(args.workdir)]
    seconds, peak_mb, out = _child([sys.executable, __file__, "--job", *tail], args.workdir)
    job = json.loads(out.strip().splitlines()[-1])
    from importlib.metadata import version

    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak_mb,
                "work_seconds": job["reference_seconds"] + job["report_seconds"],
                **job,
                "flagged_count": len(job["flagged"]),
                "rows": data["rows"],
                "version": version("evidently"),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
