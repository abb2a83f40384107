"""What each workload runs on each system, which figures it shows and which ratios it targets."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import data
from bench.servers import Server
from bench.venvs import DAGSTER, DVC, EVIDENTLY, METAFLOW, MLFLOW, PREFECT, ZENML, Peer

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Side:
    """One system's run of a workload: a command executed in a fresh process per repetition."""

    system: str
    script: str  # a module under bench.workloads, or a peer script under bench/peers/
    peer: Peer | None = None
    args: tuple[str, ...] = ()
    slow: bool = False  # ``--quick`` measures it once
    server: Server | None = None  # started per repetition; the script talks to it over HTTP
    uses: Peer | None = None  # a gnomon-side script that drives this peer (W3's servers)

    @property
    def needs(self) -> Peer | None:
        """The peer venv this side needs installed (``--no-peer`` drops such sides)."""
        return self.peer or self.uses

    def command(self, data_file: Path, workdir: Path, extra: tuple[str, ...]) -> list[str]:
        tail = ["--data", str(data_file), "--workdir", str(workdir), *self.args, *extra]
        if self.peer is None:
            return [sys.executable, "-m", f"bench.workloads.{self.script}", *tail]
        return [str(self.peer.python), str(self.peer.script(self.script)), *tail]

    def env(self, workdir: Path, url: str | None = None) -> dict[str, str]:
        """The script's environment: embedded stores under ``workdir``, or the server at ``url``."""
        if self.peer is None:
            home = {"GNOMON_HOME": str(workdir / ("client" if url else "gnomon"))}
            return {**home, "PYTHONPATH": str(REPO / "src"), **({"GNOMON_URI": url} if url else {})}
        return {"MLFLOW_TRACKING_URI": url or f"sqlite:///{workdir / 'mlflow.db'}"}


@dataclass(frozen=True, slots=True)
class Ratio:
    """``peer``'s median ``figure`` over ``ours``'s (times: higher is better for gnomon);
    ``inverted``: ``ours`` over ``peer`` (rates such as requests/s). ``floor``: the figure of
    ``ours`` that a server taking no time would give (the client's own cost), so ``peer`` over
    it is the largest ratio any server could show through that client: the ceiling."""

    figure: str
    peer: str
    target: float
    ours: str = "gnomon"
    inverted: bool = False
    floor: str | None = None


@dataclass(frozen=True, slots=True)
class Limit:
    """An absolute target: ``system``'s median ``figure`` at most ``ceiling``."""

    figure: str
    ceiling: float
    system: str = "gnomon"


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    title: str
    sides: tuple[Side, ...]
    figures: tuple[str, ...]
    expect: Callable[[dict[str, Any]], dict[str, Any]]
    ratios: tuple[Ratio, ...] = ()
    limits: tuple[Limit, ...] = ()
    queries: bool = False  # takes --query-reps
    serving: bool = False  # takes --duration (W3's measured seconds of load)
    timeout_s: float = 900.0


def _w1_expect(generated: dict[str, Any]) -> dict[str, Any]:
    runs = generated["runs"]
    return {"points_stored": len(runs) * generated["steps"] * len(runs[0]["metrics"])}


def _w2_expect(generated: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows": generated["expected_rows"],
        "first_run": generated["expected_first"],
        "history_points": len(generated["history"]),
    }


W1 = Workload(
    name="W1",
    title="tracking ingest: 10 runs x 10 metrics x 100 steps, one log_metric per point",
    sides=(
        Side("gnomon", "w1"),
        Side("mlflow", "w1", MLFLOW, ("--mode", "per-call"), slow=True),
        Side("mlflow-async", "w1", MLFLOW, ("--mode", "async")),
    ),
    figures=(
        "seconds",
        "points_per_s",
        "start_run_ms",
        "first_start_run_ms",
        "startup_s",
        "env_tags",
    ),
    expect=_w1_expect,
    ratios=(Ratio("seconds", "mlflow", 300.0), Ratio("seconds", "mlflow-async", 10.0)),
)

# Over HTTP, MLflow's per-call variants run ~20-70 points/s: they log the first 200 points
# (1 run x 10 metrics x 20 steps) and report seconds extrapolated to the full 10,000.
PER_CALL_POINTS = 200
REQUEST_REPS = ("--request-reps", "200")


def _w1s_sides() -> tuple[Side, ...]:
    gnomon = tuple(
        Side(f"gnomon-w{n}", "w1", args=REQUEST_REPS, server=Server("gnomon", n)) for n in (1, 4)
    )
    per_call = ("--mode", "per-call", "--points", str(PER_CALL_POINTS), *REQUEST_REPS)
    mlflow = tuple(
        Side(f"mlflow-w{n}", "w1", MLFLOW, per_call, server=Server("mlflow", n)) for n in (4, 1)
    )
    async_ = Side(
        "mlflow-async-w4",
        "w1",
        MLFLOW,
        ("--mode", "async", *REQUEST_REPS),
        server=Server("mlflow", 4),
    )
    return (*gnomon, *mlflow, async_)


W1S = Workload(
    name="W1s",
    title="W1 through the tracking server over HTTP (-wN: server workers)",
    sides=_w1s_sides(),
    figures=(
        "seconds",
        "points_per_s",
        "workers",
        "extrapolated",
        "points_measured",
        "request_p50_ms",
        "start_run_ms",
        "startup_s",
    ),
    expect=_w1_expect,
    ratios=(
        Ratio("seconds", "mlflow-w4", 100.0, ours="gnomon-w4"),
        Ratio("seconds", "mlflow-w1", 100.0, ours="gnomon-w1"),
        Ratio("seconds", "mlflow-async-w4", 10.0, ours="gnomon-w4"),
        Ratio("seconds", "mlflow-async-w4", 10.0, ours="gnomon-w1"),
    ),
    limits=(Limit("request_p50_ms", 2.0, "gnomon-w1"), Limit("request_p50_ms", 2.0, "gnomon-w4")),
)

W2 = Workload(
    name="W2",
    title=f"search and history: {data.W2_RUNS:,} runs, top 100 by f1; 1,000-step history",
    sides=(Side("gnomon", "w2"), Side("mlflow", "w2", MLFLOW)),
    figures=(
        "search_ms",
        "history_ms",
        "first_search_ms",
        "rows",
        "first_run",
        "populate_seconds",
        "startup_s",
    ),
    expect=_w2_expect,
    ratios=(Ratio("search_ms", "mlflow", 20.0), Ratio("history_ms", "mlflow", 20.0)),
    queries=True,
)

W2L = Workload(
    name="W2L",
    title=f"search at scale: {data.W2L_RUNS:,} runs, same query",
    sides=(Side("gnomon", "w2", args=("--populate", "batch")),),
    figures=("search_ms", "history_ms", "first_search_ms", "rows", "first_run", "populate_seconds"),
    expect=_w2_expect,
    limits=(Limit("search_ms", 20.0),),
    queries=True,
    timeout_s=3600.0,
)


# The same MLflow client scripts, against MLflow's own server and against gnomon's (issue 12:
# at least 10x through the same client).
def _through_mlflow_client(script: str, args: tuple[str, ...] = ()) -> tuple[Side, ...]:
    return (
        Side("client-gnomon-w4", script, MLFLOW, args, server=Server("gnomon", 4)),
        Side("client-mlflow-w4", script, MLFLOW, args, server=Server("mlflow", 4)),
    )


W1M = Workload(
    name="W1m",
    title="W1 through MLflow's own client: against gnomon's server and MLflow's (4 workers)",
    sides=_through_mlflow_client(
        "w1", ("--mode", "per-call", "--points", str(PER_CALL_POINTS), *REQUEST_REPS)
    ),
    figures=(
        "seconds",
        "floor_seconds",
        "points_per_s",
        "request_p50_ms",
        "extrapolated",
        "start_run_ms",
    ),
    expect=_w1_expect,
    ratios=(
        Ratio("seconds", "client-mlflow-w4", 10.0, ours="client-gnomon-w4", floor="floor_seconds"),
    ),
)

W2M = Workload(
    name="W2m",
    title=f"W2 through MLflow's own client ({data.W2M_RUNS:,} runs): gnomon's server and MLflow's",
    sides=_through_mlflow_client("w2"),
    figures=(
        "search_ms",
        "search_floor_ms",
        "history_ms",
        "history_floor_ms",
        "first_search_ms",
        "rows",
        "populate_seconds",
    ),
    expect=lambda generated: {
        "rows": generated["expected_rows"],
        "history_points": len(generated["history"]),
    },
    ratios=(
        Ratio(
            "search_ms", "client-mlflow-w4", 10.0, ours="client-gnomon-w4", floor="search_floor_ms"
        ),
        Ratio(
            "history_ms",
            "client-mlflow-w4",
            10.0,
            ours="client-gnomon-w4",
            floor="history_floor_ms",
        ),
    ),
    queries=True,
    timeout_s=3600.0,
)


IMP = Workload(
    name="IMP",
    title=f"gnomon import mlflow: an MLflow SQLite store of {data.IMP_RUNS:,} runs",
    sides=(Side("gnomon", "mlflow_import", uses=MLFLOW),),
    figures=("seconds", "runs_per_s", "runs", "points", "artifact_files", "make_seconds"),
    expect=lambda generated: {"runs": generated["runs"], "skipped": 0},
    timeout_s=3600.0,
)


def _w3_expect(generated: dict[str, Any]) -> dict[str, Any]:
    return {"errors": 0, "mismatches": 0}


def _w3(name: str, model: str) -> Workload:
    """W3 (random forest) or W3b (logistic regression): 16 connections, single-row requests."""
    return Workload(
        name=name,
        title=f"online serving, {model}: single-row JSON, 16 connections, closed loop",
        sides=(
            Side("gnomon", "w3", args=("--system", "gnomon")),
            Side("gnomon-norecords", "w3", args=("--system", "gnomon", "--no-records")),
            Side("mlflow", "w3", args=("--system", "mlflow"), uses=MLFLOW),
            Side("floor", "w3", args=("--system", "floor")),
        ),
        figures=(
            "requests_per_s",
            "p50_ms",
            "p99_ms",
            "errors",
            "mismatches",
            "requests",
            "workers",
            "predict_ms",
        ),
        expect=_w3_expect,
        ratios=(
            Ratio("requests_per_s", "mlflow", 5.0, inverted=True),
            Ratio("requests_per_s", "floor", 1.5, inverted=True),
            Ratio("p99_ms", "mlflow", 5.0),
            Ratio("requests_per_s", "gnomon-norecords", 0.9, inverted=True),
        ),
        limits=(Limit("errors", 0.0), Limit("errors", 0.0, "gnomon-norecords")),
        serving=True,
        timeout_s=600.0,
    )


W3 = _w3("W3", "RandomForestClassifier(n_estimators=50)")
W3B = _w3("W3b", "LogisticRegression")

# Start-up of the commands a user types first, in milliseconds: 300 for the version and the
# command list (which import no capability), 500 for any command's own start.
LISTINGS = ("version", "help")
CLI = Workload(
    name="CLI",
    title="CLI start-up: median wall time of a fresh `gnomon` process per command",
    sides=(Side("gnomon", "cli_startup"),),
    figures=(*(f"{name}_ms" for name in data.CLI_COMMANDS), "failures"),
    expect=lambda generated: {"failures": 0},
    limits=(
        Limit("version_ms", 300.0),
        Limit("help_ms", 300.0),
        *(Limit(f"{name}_ms", 500.0) for name in data.CLI_COMMANDS if name not in LISTINGS),
    ),
    queries=True,
    timeout_s=600.0,
)


def _w8_expect(generated: dict[str, Any]) -> dict[str, Any]:
    return {
        "files": generated["files"],
        "bytes": generated["files"] * generated["file_bytes"],
        "readd_unchanged": True,
        "change_new_version": True,
        "new_objects_after_change": len(generated["changed"]),
    }


def _w8(name: str, size: str, limits: tuple[Limit, ...]) -> Workload:
    """W8 (1,000 files) or W8q (its quick check, 100): each step a fresh CLI process."""
    return Workload(
        name=name,
        title=f"dataset versioning: {size} (random 1 MiB each); add, re-add, change 10, add",
        sides=(Side("gnomon", "w8"), Side("dvc", "w8", DVC)),
        figures=(
            "add_seconds",
            "readd_seconds",
            "change_seconds",
            "hardlink_add_seconds",
            "startup_seconds",
            "readd_over_startup_s",
            "raw_read_seconds",
            "add_gb_per_s",
            "raw_gb_per_s",
            "files",
            "new_objects_after_change",
        ),
        expect=_w8_expect,
        ratios=(Ratio("add_seconds", "dvc", 7.0),),
        limits=limits,
    )


# Issue 13: 1 GB versioned in at most 1 s, an unchanged re-version at most 0.1 s beyond the
# CLI's start-up. W8q (100 MB) keeps the ratio and the re-version limit; 1 s is for 1 GB.
W8 = _w8("W8", "1,000 files, 1 GB", (Limit("add_seconds", 1.0), Limit("readd_over_startup_s", 0.1)))
W8Q = _w8("W8q", "100 files, 100 MB", (Limit("readd_over_startup_s", 0.1),))

PROF = Workload(
    name="PROF",
    title=(
        f"data profile: {data.PROF_ROWS:,} rows x {data.PROF_NUMERIC + data.PROF_CATEGORICAL} "
        "columns of Parquet; add, profile --html, validate, each a process"
    ),
    sides=(Side("gnomon", "prof"),),
    figures=(
        "add_seconds",
        "add_peak_mb",
        "profile_seconds",
        "profile_peak_mb",
        "validate_seconds",
        "validate_peak_mb",
        "cached_profile_seconds",
        "startup_seconds",
        "html_kb",
        "rows",
        "columns",
        "validated_rows",
    ),
    expect=lambda generated: {
        "rows": generated["rows"],
        "columns": generated["columns"],
        "validated_rows": generated["rows"],
        "created": True,
    },
)


def _w6(name: str, rows: int, speedup: float) -> Workload:
    """W6 (100,000 rows) or W6L (1,000,000): each side's whole job a fresh process."""
    return Workload(
        name=name,
        title=(
            f"drift report: reference and current {rows:,} rows x 25 columns of Parquet "
            "(5 numeric shifted, 1 text re-weighted), read, prepared and compared"
        ),
        sides=(Side("gnomon", "w6"), Side("evidently", "w6", EVIDENTLY)),
        figures=(
            "seconds",
            "peak_mb",
            "work_seconds",
            "import_seconds",
            "reference_seconds",
            "report_seconds",
            "flagged_count",
            "flagged",
        ),
        expect=lambda generated: {"flagged": generated["changed"]},
        # Issue 14: at least 20x (30x at 1M rows) Evidently's time, at most half its memory.
        ratios=(Ratio("seconds", "evidently", speedup), Ratio("peak_mb", "evidently", 2.0)),
        timeout_s=1800.0,
    )


W6 = _w6("W6", data.W6_ROWS, 20.0)
W6L = _w6("W6L", data.W6L_ROWS, 30.0)


def _mon(name: str, hours: int, limits: tuple[Limit, ...]) -> Workload:
    """MON (24 hours of records) or MONq (its quick check, 2): one monitor run, a process."""
    return Workload(
        name=name,
        title=(
            f"monitor run: {hours} h of prediction records at {data.MON_RATE}/s "
            f"({hours * 3600 * data.MON_RATE:,} rows), 1 h windows against the training data"
        ),
        sides=(Side("gnomon", "mon"),),
        figures=(
            "seconds",
            "create_s",
            "run_s",
            "peak_mb",
            "rows_per_s",
            "rows",
            "windows",
            "drifted_windows",
            "import_s",
            "process_seconds",
            "generate_seconds",
        ),
        expect=lambda generated: {
            "rows": generated["rows"],
            "windows": generated["hours"],
            "drifted_windows": generated["shifted_hours"],
            "flagged": generated["changed"],
        },
        limits=limits,
        timeout_s=3600.0,
    )


# Issue 14: a day of records at 300 requests/s (25,920,000) monitored within 60 s and 2 GB.
# MONq keeps the memory limit (a run holds one window at a time); 60 s is for the day.
MON = _mon("MON", data.MON_HOURS, (Limit("seconds", 60.0), Limit("peak_mb", 2048.0)))
MONQ = _mon("MONq", data.MONQ_HOURS, (Limit("peak_mb", 2048.0),))

W7_FIGURES = (
    "chain_seconds",
    "chain_overhead_ms",
    "chain_run_s",
    "chain_run_ms_per_step",
    "chain_steps_ms_per_step",
    "chain_cached_seconds",
    "chain_cached_run_s",
    "chain_cached_steps",
    "chain_cli_seconds",
    "chain_cli_cached_seconds",
    "fan_seconds",
    "fan_overhead_ms",
    "fan_run_s",
    "fan_run_ms_per_step",
    "fan_cached_seconds",
    "fan_cached_run_s",
    "fan_cached_steps",
    "width",
    "limit_seconds",
    "chain_import_s",
    "chain_open_s",
    "chain_setup_s",
    "chain_steps_s",
    "chain_close_s",
    "chain_cached_import_s",
    "chain_cached_open_s",
    "chain_peak_mb",
    "fan_error",
    "pending",
    "version",
)
W7_PEERS = ("dagster", "prefect", "metaflow", "zenml")
W7_CACHED_PEERS = ("prefect", "metaflow", "zenml")  # Dagster has no cache across runs


def _w7(name: str, quick: bool) -> Workload:
    """W7 (gnomon, its 1,000-wide and Ray variants, the floor, four peers) or W7q (its quick
    check: gnomon, the 1,000-wide fan-out, the floor and Dagster, each a few seconds)."""
    gnomon = (
        Side("gnomon", "w7", args=("--system", "gnomon")),
        Side("gnomon-1000", "w7", args=("--system", "wide")),
        *(() if quick else (Side("gnomon-ray", "w7", args=("--system", "ray")),)),
        Side("limit", "w7", args=("--system", "limit")),
    )
    peers = (Side("dagster", "w7", DAGSTER),)
    if not quick:  # a process per task (Metaflow), a server to start (Prefect), minutes each
        peers += tuple(Side(p.name, "w7", p, slow=True) for p in (PREFECT, METAFLOW, ZENML))
    shown = W7_PEERS[:1] if quick else W7_PEERS
    return Workload(
        name=name,
        title=(
            f"pipeline overhead: a {data.W7_STEPS}-step chain, a {data.W7_WIDTH}-wide fan-out "
            "and its join; first run, then cached; each run a whole process"
        ),
        sides=(*gnomon, *peers),
        figures=W7_FIGURES,
        expect=lambda generated: {"ok": True},
        # Issue: at most 2 ms of overhead per step, a cached 200-step re-run under 0.3 s, and
        # at least 10x the fastest peer on both.
        ratios=(
            *(
                Ratio(figure, peer, 10.0)
                for figure in ("chain_overhead_ms", "fan_overhead_ms")
                for peer in shown
            ),
            *(
                Ratio(figure, peer, 10.0)
                for figure in ("chain_cached_seconds", "fan_cached_seconds")
                for peer in W7_CACHED_PEERS
                if peer in shown
            ),
        ),
        limits=(
            Limit("chain_overhead_ms", 2.0),
            Limit("fan_overhead_ms", 2.0),
            Limit("chain_run_ms_per_step", 2.0),
            Limit("chain_cached_seconds", 0.3),
            Limit("chain_cached_run_s", 0.3),
        ),
        timeout_s=3600.0,
    )


W7 = _w7("W7", quick=False)
W7Q = _w7("W7q", quick=True)

UI_PAGES = ("experiments", "runs", "filtered", "next_page", "last_page", "run", "series", "compare")


def _ui(name: str, runs: int, points: int) -> Workload:
    """UI (10,000 runs, a 100,000-point curve) or UIq (its quick check, a tenth of both)."""
    return Workload(
        name=name,
        title=(
            f"web UI: each page's server time over HTTP, an experiment of {runs:,} runs and a "
            f"{points:,}-point curve (MLflow: the calls its UI makes for the same pages)"
        ),
        sides=(Side("gnomon", "ui_pages"), Side("mlflow", "ui", MLFLOW, slow=True)),
        figures=(
            "slowest_ms",
            *(f"{page}_ms" for page in UI_PAGES),
            "history_ms",
            "ok",
            "answered",
            "failed",
            "runs",
            "points",
            "populate_seconds",
        ),
        expect=lambda generated: {
            "answered": True,
            "runs": len(generated["runs"]["model"]),
            "points": len(generated["curve"]),
        },
        # Issue: every page under 100 ms of server time at 10,000 runs and 100,000 points.
        limits=tuple(Limit(f"{page}_ms", 100.0) for page in UI_PAGES),
        queries=True,
        timeout_s=1800.0,
    )


UI = _ui("UI", data.UI_RUNS, data.UI_POINTS)
UIQ = _ui("UIq", data.UIQ_RUNS, data.UIQ_POINTS)

# W4/W5's peer: Feast with its DuckDB offline store (its SQLite online store is built in).
FEAST = Peer(name="feast", requirement="feast[duckdb]==0.67.0")

W4 = Workload(
    name="W4",
    title=(
        f"feature materialisation and online lookups: {data.FEATURES_ENTITIES:,} entities x "
        f"{data.FEATURES_PER_ENTITY} rows, 10 float features; SQLite online stores"
    ),
    sides=(Side("gnomon", "w4"), Side("feast", "w4", FEAST)),
    figures=(
        "materialize_s",
        "peak_mb",
        "get1_p50_us",
        "get1_p99_us",
        "get100_p50_ms",
        "get100_p99_ms",
        "entities",
        "mismatches",
        "db_mb",
        "import_s",
        "process_seconds",
    ),
    expect=lambda generated: {"entities": data.FEATURES_ENTITIES, "mismatches": 0},
    # Issue 17: materialisation and both lookups at least 10x Feast's.
    ratios=(
        Ratio("materialize_s", "feast", 10.0),
        Ratio("get1_p50_us", "feast", 10.0),
        Ratio("get100_p50_ms", "feast", 10.0),
    ),
    timeout_s=1800.0,
)

W5 = Workload(
    name="W5",
    title=(
        f"point-in-time training set: {data.FEATURES_ENTITY_ROWS:,} entity rows against "
        f"W4's {data.FEATURES_ENTITIES * data.FEATURES_PER_ENTITY:,}-row source, "
        f"10 float features, 2-day TTL"
    ),
    sides=(
        Side("gnomon", "w5"),
        Side("gnomon-asof", "w5", args=("--join", "asof")),  # the plan for many rows per key
        Side("feast", "w5", FEAST),
    ),
    figures=(
        "seconds",
        "peak_mb",
        "call_mb",
        "base_mb",
        "process_peak_mb",
        "process_seconds",
        "import_seconds",
        "rows",
        "matched",
        "mismatches",
        "order_kept",
        "join",
    ),
    # Checked against the brute-force answer (``data.features_expected``), row by row.
    expect=lambda generated: {
        "rows": generated["entity_rows"],
        "matched": generated["matched"],
        "mismatches": 0,
    },
    # Issue 17: at least 3x Feast's DuckDB offline store, with at most half its memory.
    ratios=(Ratio("seconds", "feast", 3.0), Ratio("peak_mb", "feast", 2.0)),
    timeout_s=1800.0,
)

TUNE_FIGURES = (
    "seconds",
    "ms_per_trial",
    "open_s",
    "import_s",
    "best_value",
    "trials",
    "complete",
    "runs",
    "workers",
    "executor",
)


def _tune_expect(generated: dict[str, Any]) -> dict[str, Any]:
    return {"trials": generated["trials"], "complete": generated["trials"]}


TUNE = Workload(
    name="TUNE",
    title=(
        f"tuning overhead: a {data.TUNE_TRIALS}-trial TPE study (seeded, constant liar) of "
        "Rosenbrock's function, every trial a run; against Optuna on its SQLite RDBStorage"
    ),
    sides=(
        Side("gnomon", "tune"),
        Side("optuna", "tune_optuna"),
        # Optuna on gnomon's journal, no runs: gnomon less this is the tracking's cost
        Side("optuna-journal", "tune_optuna", args=("--storage", "journal")),
    ),
    figures=TUNE_FIGURES,
    expect=_tune_expect,
    # Issue 18: within 1.5x of bare Optuna's time (Optuna / gnomon >= 1/1.5). Its other
    # target, at most 5 ms per trial for tracking each trial as a run, is gnomon's
    # ms_per_trial less optuna-journal's: two sides' figures, read off the table.
    ratios=(Ratio("seconds", "optuna", 1 / 1.5),),
    timeout_s=600.0,
)

RAY_SIDE, PROCESS_SIDE = f"gnomon-ray-{data.TUNER_WORKERS}", f"gnomon-local-{data.TUNER_WORKERS}"
TUNER = Workload(
    name="TUNER",
    title=(
        f"parallel tuning: {data.TUNER_TRIALS} trials of a {data.TUNER_SLEEP_S * 1000:.0f} ms "
        f"objective, {data.TUNER_WORKERS} workers on a local Ray (and as local processes) "
        "against one in the process"
    ),
    sides=(
        # a quarter CPU each: the objective waits (sleeps), so 8 share this machine's 2 CPUs
        Side(
            RAY_SIDE,
            "tune",
            args=(
                "--executor",
                "ray",
                "--workers",
                str(data.TUNER_WORKERS),
                "--worker-cpus",
                "0.25",
            ),
        ),
        Side(PROCESS_SIDE, "tune", args=("--workers", str(data.TUNER_WORKERS))),
        Side("gnomon-1", "tune"),
    ),
    figures=(*TUNE_FIGURES[:2], "with_start_s", "ray_start_s", *TUNE_FIGURES[2:]),
    expect=_tune_expect,
    # Issue 18 asks for Ray's speed-up, with no target: 1x marks "faster than one worker".
    # ``seconds`` leaves Ray's start out (``ray_start_s``), ``with_start_s`` counts it.
    ratios=(
        Ratio("seconds", "gnomon-1", 1.0, ours=RAY_SIDE),
        Ratio("with_start_s", "gnomon-1", 1.0, ours=RAY_SIDE),
        Ratio("seconds", "gnomon-1", 1.0, ours=PROCESS_SIDE),
    ),
    timeout_s=600.0,
)


def _loop_expect(generated: dict[str, Any]) -> dict[str, Any]:
    return {"promoted": 1, "rolled_back": 1, "failed": 0}


LOOP = Workload(
    name="LOOP",
    title=(
        "the closed loop in the demo's setting, under load from 8 connections: first drifted "
        "window to the promoted model, and a bad candidate's canary to its rollback"
    ),
    sides=(Side("gnomon", "loop"),),
    figures=(
        "drift_to_promotion_s",
        "canary_to_rollback_s",
        "requests",
        "failed",
        "promoted",
        "rolled_back",
        "hold_s",
    ),
    expect=_loop_expect,
    timeout_s=600.0,
)

WORKLOADS = {
    w.name: w
    for w in (W1, W1S, W1M, W2, W2M, W2L, IMP, W3, W3B, CLI, W6, W6L, W8, W8Q, PROF, MON, MONQ)
}
WORKLOADS.update({w.name: w for w in (W7, W7Q, UI, UIQ, W4, W5, TUNE, TUNER, LOOP)})
