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


# W4/W5: one feature view's source (W4 materialises it, W5 joins an entity frame against it).
FEATURES_ENTITIES, FEATURES_PER_ENTITY, FEATURES_COUNT, FEATURES_DAYS = 100_000, 10, 10, 30
FEATURES_ENTITY_ROWS = 100_000  # W5's entity frame
FEATURES_START_S = 1_704_067_200  # 2024-01-01T00:00:00Z
FEATURES_TIES = 0.01  # share of entities whose last row repeats an event time, written later
FEATURES_UNSEEN = 0.05  # share of the entity frame's ids absent from the source
W5_TTL_S = 2 * 86_400


def features_source(folder: Path, seed: int = SEED) -> dict[str, Any]:
    """W4/W5's data under ``folder``/features (zstd Parquet, rows in arrival order):

    - ``source``: ``entity_id`` (int64), ``event_timestamp`` and ``created`` (UTC, us) and
      ``f00``..``f09`` (float64): 10 rows for each of 100,000 entities at random times over
      30 days, each written up to an hour after its event; 1% of the entities' last row has
      the event time of the row before it, written later (a tie the created time breaks).
    - ``entities``: 100,000 rows of ``entity_id``, ``event_timestamp`` (over the 30 days and
      two after) and ``row_id`` (0..n-1, a label-like column to carry): 5% of the ids never
      seen, 1% of the rows a copy of another's entity and time, 1% at exactly a source row's
      event time.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    where = folder / "features"
    where.mkdir()
    n, per, span_us = FEATURES_ENTITIES, FEATURES_PER_ENTITY, FEATURES_DAYS * 86_400 * 10**6
    start_us = FEATURES_START_S * 10**6
    ids = np.repeat(np.arange(n, dtype=np.int64), per)
    event = np.sort(rng.integers(0, span_us, (n, per)), axis=1)
    tied = rng.random(n) < FEATURES_TIES
    event[tied, -1] = event[tied, -2]
    event = event.ravel() + start_us
    created = event + rng.integers(0, 3_600 * 10**6, n * per)
    created.reshape(n, per)[tied, -1] = created.reshape(n, per)[tied, -2] + 1_000_000
    order = np.argsort(created, kind="stable")
    utc = pa.timestamp("us", tz="UTC")
    columns: dict[str, Any] = {
        "entity_id": ids[order],
        "event_timestamp": pa.array(event[order], utc),
        "created": pa.array(created[order], utc),
    }
    for index in range(FEATURES_COUNT):
        columns[f"f{index:02d}"] = rng.standard_normal(n * per)
    source = where / "source.parquet"
    # DuckDB's row group size; no dictionaries: random floats never repeat, and pyarrow's
    # default would fill one per column chunk, then fall back to plain pages anyway
    table = pa.table(columns)
    pq.write_table(table, source, compression="zstd", row_group_size=122_880, use_dictionary=False)
    entities = where / "entities.parquet"
    pq.write_table(_entity_frame(rng, event, ids), entities, compression="zstd")
    return {
        "source": str(source),
        "entities": str(entities),
        "rows": n * per,
        "entity_rows": FEATURES_ENTITY_ROWS,
        "join_key": "entity_id",
        "timestamp_field": "event_timestamp",
        "created_field": "created",
        "features": [f"f{index:02d}" for index in range(FEATURES_COUNT)],
    }


def _entity_frame(rng: Any, event: Any, ids: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    m = FEATURES_ENTITY_ROWS
    unseen = int(FEATURES_ENTITIES * FEATURES_UNSEEN / (1 - FEATURES_UNSEEN))
    entity = rng.integers(0, FEATURES_ENTITIES + unseen, m)
    span_us = (FEATURES_DAYS + 2) * 86_400 * 10**6
    at = FEATURES_START_S * 10**6 + rng.integers(0, span_us, m)
    exact = rng.random(m) < 0.01  # exactly at a source row's event time
    picked = rng.integers(0, len(ids), int(exact.sum()))
    entity[exact], at[exact] = ids[picked], event[picked]
    copies = np.flatnonzero(rng.random(m) < 0.01)
    originals = rng.integers(0, m, len(copies))
    entity[copies], at[copies] = entity[originals], at[originals]
    return pa.table(
        {
            "entity_id": entity.astype(np.int64),
            "event_timestamp": pa.array(at, pa.timestamp("us", tz="UTC")),
            "row_id": np.arange(m, dtype=np.int64),
        }
    )


def features_expected(source: Any, entities: Any, ttl_s: float) -> list[int]:
    """The brute-force point-in-time answer: per entity row, the index of the source row of
    its entity with the greatest (event time, created time) at or before the row's time and
    within ``ttl_s`` of it, or -1. A plain loop, sharing nothing with either system's join."""
    rows: dict[int, list[tuple[int, int, int]]] = {}
    columns = zip(
        source["entity_id"].to_pylist(),
        source["event_timestamp"].cast("int64").to_pylist(),
        source["created"].cast("int64").to_pylist(),
        strict=True,
    )
    for index, (entity, event, created) in enumerate(columns):
        rows.setdefault(entity, []).append((event, created, index))
    ttl_us = int(ttl_s * 10**6)
    answer = []
    asked = zip(
        entities["entity_id"].to_pylist(),
        entities["event_timestamp"].cast("int64").to_pylist(),
        strict=True,
    )
    for entity, at in asked:
        valid = [r for r in rows.get(entity, ()) if at - ttl_us <= r[0] <= at]
        answer.append(max(valid)[2] if valid else -1)
    return answer


def w5(folder: Path, seed: int = SEED) -> dict[str, Any]:
    """W4's source and entity frame, a 2-day TTL, and the expected answer (brute force) as
    ``expected.parquet``: ``row_id`` and the 10 features, in the entity frame's order."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    made = features_source(folder, seed)
    source, entities = pq.read_table(made["source"]), pq.read_table(made["entities"])
    picked = pa.array(features_expected(source, entities, W5_TTL_S))
    valid = pc.greater_equal(picked, 0)
    index = pc.if_else(valid, picked, None)
    expected = {"row_id": entities["row_id"]}
    expected.update({f: source[f].take(index) for f in made["features"]})
    path = Path(made["entities"]).with_name("expected.parquet")
    pq.write_table(pa.table(expected), path)
    matched = int(pc.sum(valid).as_py())
    return {**made, "ttl_s": W5_TTL_S, "expected": str(path), "matched": matched}


def w5_check(data: dict[str, Any], answer: Path) -> dict[str, Any]:
    """W5's check of a side's ``answer`` (Parquet of ``row_id`` and the features) against
    ``w5``'s expected one, run by both sides (the Feast peer loads this module by path: keep
    its top-level imports stdlib): ``mismatches`` (rows that differ; nulls equal nulls),
    ``order_kept`` (the entity frame's), ``rows`` and ``matched`` (rows with values)."""
    import numpy as np
    import pandas as pd

    got, expected = pd.read_parquet(answer), pd.read_parquet(data["expected"])
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


W4_SINGLE, W4_BATCHES, W4_BATCH, W4_CHECKED = 2_000, 200, 100, 500


def w4(folder: Path, seed: int = SEED) -> dict[str, Any]:
    """W4's source (``features_source``), the entities each side looks up (``single``: one
    at a time; ``batches`` of 100) and, for ``W4_CHECKED`` entities, the features of their
    latest row by (event time, created time), found by a plain loop."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    made = features_source(folder, seed)
    rng = random.Random(seed)
    ids = range(FEATURES_ENTITIES)
    checked = sorted(rng.sample(ids, W4_CHECKED))
    table = pq.read_table(made["source"])
    table = table.filter(pc.is_in(table["entity_id"], pa.array(checked, pa.int64())))
    times = zip(
        table["entity_id"].to_pylist(),
        table["event_timestamp"].cast("int64").to_pylist(),
        table["created"].cast("int64").to_pylist(),
        strict=True,
    )
    best: dict[int, tuple[int, int, int]] = {}
    for index, (entity, event, created) in enumerate(times):
        if entity not in best or (event, created) > best[entity][:2]:
            best[entity] = (event, created, index)
    features = {f: table[f].to_pylist() for f in made["features"]}
    expected = [[features[f][best[e][2]] for f in made["features"]] for e in checked]
    return {
        **made,
        "single": [rng.randrange(FEATURES_ENTITIES) for _ in range(W4_SINGLE)],
        "batches": [rng.sample(ids, W4_BATCH) for _ in range(W4_BATCHES)],
        "checked": checked,
        "expected": expected,
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


# TUNE: a 500-trial TPE study of a cheap objective, gnomon against bare Optuna. TUNER: 200
# trials of a 50 ms objective, 8 workers on a local Ray against one worker in the process.
TUNE_TRIALS, TUNER_TRIALS, TUNER_WORKERS, TUNER_SLEEP_S = 500, 200, 8, 0.05


LOOP_HOLD_S = 4.0  # each canary step of the closed loop's rollout


def tune(trials: int, seed: int = SEED) -> dict[str, Any]:
    """The study's size and the sampler's seed; the objective is ``workloads/tune_objective``."""
    return {"trials": trials, "seed": seed, "workers": TUNER_WORKERS, "sleep_s": TUNER_SLEEP_S}


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
        "W5": lambda: w5(folder),
        "W4": lambda: w4(folder),
        "TUNE": lambda: tune(TUNE_TRIALS),
        "TUNER": lambda: tune(TUNER_TRIALS),
        "LOOP": lambda: {"hold_s": LOOP_HOLD_S},
    }
    path = folder / "data.json"
    path.write_text(json.dumps(builders[workload]()))
    return path
