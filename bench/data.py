"""Seeded data sets for the workloads, written to a JSON file that every side reads.

The gnomon side and the peer scripts load the same file, so both log exactly the same values
and neither needs the other's code.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEED = 20240611
W1_RUNS, W1_PARAMS, W1_METRICS, W1_STEPS = 10, 5, 10, 100
W2_RUNS, W2L_RUNS, HISTORY_STEPS = 2_000, 100_000, 1_000
IMP_RUNS, IMP_STEPS = 10_000, 10  # runs of the MLflow store IMP imports, points per history
W2M_RUNS = W2_RUNS  # W2 through MLflow's client: the same data, so the figures compare
MODELS = ("rf", "gb", "lr")
ACC_THRESHOLD, QUERY_MODEL, MAX_RESULTS = 0.9, "rf", 100


def w1(seed: int = SEED) -> dict[str, Any]:
    """10 runs, each with 5 params and 10 metrics of 100 steps."""
    rng = random.Random(seed)
    runs = []
    for index in range(W1_RUNS):
        params = {f"param_{p}": str(rng.randint(1, 1000)) for p in range(W1_PARAMS)}
        metrics = {
            f"metric_{m}": [round(rng.random(), 6) for _ in range(W1_STEPS)]
            for m in range(W1_METRICS)
        }
        runs.append({"name": f"run-{index}", "params": params, "metrics": metrics})
    return {"runs": runs, "steps": W1_STEPS}


def w2(n_runs: int, seed: int = SEED) -> dict[str, Any]:
    """``n_runs`` runs as columns (model, depth, acc, f1, loss) and a 1,000-step history."""
    rng = random.Random(seed)
    columns: dict[str, list[Any]] = {"model": [], "depth": [], "acc": [], "f1": [], "loss": []}
    for _ in range(n_runs):
        columns["model"].append(rng.choice(MODELS))
        columns["depth"].append(str(rng.randint(1, 10)))
        columns["acc"].append(round(rng.uniform(0.5, 1.0), 6))
        columns["f1"].append(round(rng.uniform(0.4, 1.0), 6))
        columns["loss"].append(round(rng.uniform(0.0, 2.0), 6))
    history = [
        round(2.0 / (1 + 0.01 * step) + rng.gauss(0, 0.01), 6) for step in range(HISTORY_STEPS)
    ]
    return {
        "runs": columns,
        "history": history,
        "expected_rows": expected_rows(columns),
        "expected_first": expected_first(columns),
    }


def expected_rows(columns: dict[str, list[Any]]) -> int:
    """Rows the W2 query must return: acc > 0.9 and model = 'rf', at most 100."""
    matches = sum(
        1
        for acc, model in zip(columns["acc"], columns["model"], strict=True)
        if acc > ACC_THRESHOLD and model == QUERY_MODEL
    )
    return min(matches, MAX_RESULTS)


def expected_first(columns: dict[str, list[Any]]) -> str:
    """Name of the W2 query's first row: the matching run with the highest f1."""
    best = max(
        (f1, index)
        for index, (acc, model, f1) in enumerate(
            zip(columns["acc"], columns["model"], columns["f1"], strict=True)
        )
        if acc > ACC_THRESHOLD and model == QUERY_MODEL
    )
    return f"run-{best[1]}"


W3_ROWS, W3_FEATURES = 1_000, 20


def w3(model: str) -> dict[str, Any]:
    """W3's request rows: the first 1,000 rows of the training set, as records ``f0``..``f19``
    (so they lie inside the ranges a model contract learns from it), and the model kind.

    The training set is ``make_classification(5000, 20, random_state=0)``, built by each side.
    """
    from sklearn.datasets import make_classification

    x, _ = make_classification(n_samples=5000, n_features=W3_FEATURES, random_state=0)
    rows = [{f"f{j}": float(v) for j, v in enumerate(row)} for row in x[:W3_ROWS]]
    return {"model": model, "rows": rows}


W8_FILES, W8Q_FILES, W8_FILE_BYTES, W8_CHANGED = 1_000, 100, 1 << 20, 10


def w8(folder: Path, n_files: int, seed: int = SEED) -> dict[str, Any]:
    """``n_files`` files of 1 MiB random bytes written under ``folder``/w8-files, once per
    invocation (each side versions its own copy), and the change step: ``W8_CHANGED`` of them,
    spread evenly, each rewritten with ``random.Random(change_seed + i).randbytes(file_bytes)``
    (the standard library, so the peer venv makes the same bytes)."""
    import numpy as np

    files = folder / "w8-files"
    files.mkdir()
    rng = np.random.default_rng(seed)
    names = [f"part-{index:04d}.bin" for index in range(n_files)]
    for name in names:
        (files / name).write_bytes(rng.bytes(W8_FILE_BYTES))
    changed = names[:: n_files // W8_CHANGED][:W8_CHANGED]
    return {
        "folder": str(files),
        "files": n_files,
        "file_bytes": W8_FILE_BYTES,
        "changed": changed,
        "change_seed": seed + 1,
    }


PROF_ROWS, PROF_NUMERIC, PROF_CATEGORICAL = 1_000_000, 12, 8


def prof_table(rows: int, seed: int) -> Any:
    """``rows`` rows of 12 numeric columns (normal, log-normal, uniform and integer, some
    correlated, 2% missing in four) and 8 text columns (3 to 1,000 distinct values)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    base = rng.normal(size=rows)
    columns: dict[str, Any] = {}
    for index in range(PROF_NUMERIC):
        kind = index % 4
        if kind == 0:
            values = base * (index + 1) + rng.normal(size=rows)  # correlated with each other
        elif kind == 1:
            values = rng.lognormal(3.0, 1.0, rows)
        elif kind == 2:
            values = rng.uniform(-100, 100, rows)
        else:
            values = rng.integers(0, 500, rows).astype(np.float64)
        mask = rng.random(rows) < 0.02 if index < 4 else None
        array = pa.array(values, mask=mask)
        columns[f"n{index:02d}"] = array.cast(pa.int64()) if kind == 3 else array
    for index, distinct in enumerate((3, 5, 10, 20, 50, 100, 300, 1000)):
        vocabulary = np.array([f"c{index}-{v:04d}" for v in range(distinct)])
        columns[f"s{index}"] = pa.array(vocabulary[rng.zipf(1.5, rows) % distinct])
    return pa.table(columns)


def prof(folder: Path, rows: int = PROF_ROWS, seed: int = SEED) -> dict[str, Any]:
    """PROF's version (``prof.parquet``) and a second batch from the same distributions
    (``batch.parquet``) to validate against its schema, written under ``folder``/prof."""
    import pyarrow.parquet as pq

    where = folder / "prof"
    where.mkdir()
    paths = {"table": where / "prof.parquet", "batch": where / "batch.parquet"}
    for offset, path in enumerate(paths.values()):
        pq.write_table(prof_table(rows, seed + offset), path, compression="zstd")
    return {
        **{key: str(path) for key, path in paths.items()},
        "rows": rows,
        "columns": PROF_NUMERIC + PROF_CATEGORICAL,
    }


W6_ROWS, W6L_ROWS, W6_NUMERIC = 100_000, 1_000_000, 20
W6_CATEGORIES = (3, 5, 8, 12, 25)  # distinct values of c0..c4 (c4's tail past 20 is "(other)")
W6_SHIFTED, W6_SHIFT = ("n02", "n06", "n10", "n14", "n18"), 0.5  # in standard deviations
W6_REWEIGHTED, W6_MIX = "c1", 0.5  # its current weights: half the reference's, half reversed


def w6_weights(distinct: int, reweighted: bool = False) -> Any:
    """A categorical column's weights: 1/rank, normalised; re-weighted, mixed with their
    reverse (Jensen-Shannon distance 0.24 at 5 values, against a threshold of 0.1)."""
    import numpy as np

    weights = 1.0 / np.arange(1, distinct + 1)
    weights /= weights.sum()
    return (1 - W6_MIX) * weights + W6_MIX * weights[::-1] if reweighted else weights


def w6_table(rows: int, seed: int, current: bool = False) -> Any:
    """``rows`` rows of 20 standard normal columns ``n00``..``n19`` and 5 text columns
    ``c0``..``c4``; the ``current`` one has ``W6_SHIFTED`` moved by +0.5 and ``W6_REWEIGHTED``
    re-weighted. The drift tests build their data with it too."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for index in range(W6_NUMERIC):
        name = f"n{index:02d}"
        values = rng.standard_normal(rows)
        columns[name] = values + W6_SHIFT if current and name in W6_SHIFTED else values
    for index, distinct in enumerate(W6_CATEGORIES):
        name = f"c{index}"
        weights = w6_weights(distinct, current and name == W6_REWEIGHTED)
        codes = rng.choice(distinct, size=rows, p=weights).astype(np.int32)
        labels = pa.array([f"{name}-{value:02d}" for value in range(distinct)])
        columns[name] = pa.DictionaryArray.from_arrays(codes, labels).cast(pa.string())
    return pa.table(columns)


def w6_changed() -> list[str]:
    """The columns W6's current changes: exactly those a drift report must flag."""
    return sorted((*W6_SHIFTED, W6_REWEIGHTED))


def w6(folder: Path, rows: int, seed: int = SEED) -> dict[str, Any]:
    """W6's reference and current Parquet files (zstd) under ``folder``/w6."""
    import pyarrow.parquet as pq

    where = folder / "w6"
    where.mkdir()
    paths = {"reference": where / "reference.parquet", "current": where / "current.parquet"}
    for offset, (key, path) in enumerate(paths.items()):
        table = w6_table(rows, seed + offset, current=key == "current")
        pq.write_table(table, path, compression="zstd")
    return {
        **{key: str(path) for key, path in paths.items()},
        "rows": rows,
        "numeric": [f"n{index:02d}" for index in range(W6_NUMERIC)],
        "categorical": [f"c{index}" for index in range(len(W6_CATEGORIES))],
        "changed": w6_changed(),
    }


MON_HOURS, MONQ_HOURS, MON_RATE = 24, 2, 300  # a day (a quick 2 h) of records at 300 a second


def mon(hours: int, seed: int = SEED) -> dict[str, Any]:
    """MON's parameters; the records themselves are generated by ``bench/workloads/mon.py``
    (they are timed against the clock and written into a gnomon home)."""
    return {
        "hours": hours,
        "rate": MON_RATE,
        "rows": hours * 3600 * MON_RATE,
        "shifted_hours": max(1, hours // 6),  # the last hours: W6's current table
        "changed": w6_changed(),
        "seed": seed,
    }


# W7: the chain's steps and the fan-outs' widths. The pipelines are built from the scripts' own
# constants (bench/workloads/w7_steps.py, bench/peers/w7_common.py), which check they match.
W7_STEPS, W7_WIDTH, W7_WIDE = 200, 200, 1000


def w7() -> dict[str, Any]:
    return {"steps": W7_STEPS, "width": W7_WIDTH, "wide": W7_WIDE}


# UI: an experiment's runs (params model, depth, lr; metrics acc, f1, loss, one point each) and
# one run's 100,000-step loss curve. UIq, its quick check, is a tenth of both.
UI_RUNS, UI_POINTS, UIQ_RUNS, UIQ_POINTS = 10_000, 100_000, 1_000, 10_000
UI_FILTER, UI_ORDER, UI_ZOOM = "metrics.acc > 0.5", "metrics.acc DESC", (1_000, 2_000)


def ui(n_runs: int, n_points: int, seed: int = SEED) -> dict[str, Any]:
    """The runs as columns, the curve, and the queries each side times."""
    rng = random.Random(seed)
    columns: dict[str, list[Any]] = {k: [] for k in ("model", "depth", "lr", "acc", "f1", "loss")}
    for _ in range(n_runs):
        columns["model"].append(rng.choice(MODELS))
        columns["depth"].append(str(rng.randint(1, 10)))
        columns["lr"].append(str(round(10 ** rng.uniform(-4, -1), 6)))
        columns["acc"].append(round(rng.random(), 6))
        columns["f1"].append(round(rng.random(), 6))
        columns["loss"].append(round(rng.uniform(0.0, 2.0), 6))
    curve = [round(2.0 / (1 + 0.001 * s) + rng.gauss(0, 0.01), 6) for s in range(n_points)]
    return {
        "runs": columns,
        "curve": curve,
        "filter": UI_FILTER,
        "order": UI_ORDER,
        "zoom": list(UI_ZOOM),
        "matching": sum(1 for acc in columns["acc"] if acc > 0.5),
    }


# What the CLI start-up workload runs: name -> arguments of `gnomon`.
CLI_COMMANDS = {
    "version": ["version"],
    "help": ["--help"],
    "runs_help": ["runs", "--help"],
    "deploy_list_help": ["deploy", "list", "--help"],
    "models_help": ["models", "--help"],
    "serve_help": ["serve", "--help"],
}


def write(workload: str, folder: Path) -> Path:
    """Generate the data of ``workload`` into ``folder``/data.json; the file's path."""
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "W1": lambda: w1(),
        "W1s": lambda: w1(),
        "W1m": lambda: w1(),
        "W2m": lambda: w2(W2M_RUNS),
        "IMP": lambda: {"runs": IMP_RUNS, "steps": IMP_STEPS},
        "W2": lambda: w2(W2_RUNS),
        "W2L": lambda: w2(W2L_RUNS),
        "W3": lambda: w3("rf"),
        "W3b": lambda: w3("lr"),
        "CLI": lambda: {"commands": CLI_COMMANDS},
        "W8": lambda: w8(folder, W8_FILES),
        "W8q": lambda: w8(folder, W8Q_FILES),
        "PROF": lambda: prof(folder),
        "W6": lambda: w6(folder, W6_ROWS),
        "W6L": lambda: w6(folder, W6L_ROWS),
        "MON": lambda: mon(MON_HOURS),
        "MONq": lambda: mon(MONQ_HOURS),
        "W7": w7,
        "W7q": w7,
        "UI": lambda: ui(UI_RUNS, UI_POINTS),
        "UIq": lambda: ui(UIQ_RUNS, UIQ_POINTS),
    }
    path = folder / "data.json"
    path.write_text(json.dumps(builders[workload]()))
    return path
