"""TUNE and TUNER on gnomon: ``gnomon.tune`` of ``tune_objective`` (Rosenbrock over ``x`` and
``y``) with the TPE sampler and the data's seed, in ``GNOMON_HOME``; prints one JSON line.
``--workers N`` runs N workers (local processes, or Ray tasks with ``--executor ray``).

``seconds`` is the ``tune`` call: the study created (its run, its journal), every trial
proposed, run inside its own nested run and recorded, the best trial logged. The client and
its database are opened before it (``open_s``), as bare Optuna's storage is on its side.
With ``--executor ray`` the local Ray is started before the call too (``ray_start_s``, by
the same ``join_ray`` that ``tune`` would call), so ``seconds`` is the trials' time and
``with_start_s`` adds the start. Optuna is imported before the call, as on Optuna's side
(``tune`` imports it lazily). ``runs`` counts the trial runs the store holds afterwards.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import optuna  # noqa: E402, F401  (imported before the timed call, as on Optuna's side)

import gnomon  # noqa: E402
from bench.workloads._common import emit, load, parser  # noqa: E402
from bench.workloads.tune_objective import SPACE, Sleeping, objective  # noqa: E402
from gnomon.tuning.trials import STUDY_TAG  # noqa: E402
from gnomon.tuning.tune import TuningResult  # noqa: E402

IMPORTED = time.perf_counter()


def _ray_start() -> float:
    """Start the local Ray as ``tune`` would; the seconds it took."""
    from gnomon.pipelines.ray_executor import join_ray, ray_module

    started = time.perf_counter()
    join_ray(ray_module(), None)
    return time.perf_counter() - started


def _trial_runs(result: TuningResult) -> int:
    """The runs tagged with the study, less the study's own run."""
    name = result.study.name
    page = gnomon.get_client().search_runs(
        result.study.experiment_id, f"tags.`{STUDY_TAG}` = '{name}'", max_results=1000
    )
    return sum(1 for run in page if run.id != result.run_id)


def main() -> None:
    arguments = parser()
    arguments.add_argument("--workers", type=int, default=1)
    arguments.add_argument("--executor", choices=("local", "ray"), default="local")
    # a Ray worker's CPU share: the TUNER objective mostly waits, as one training elsewhere does
    arguments.add_argument("--worker-cpus", type=float, default=1.0)
    args = arguments.parse_args()
    data = load(args.data)
    imported = time.perf_counter()
    gnomon.get_client()  # the embedded client and its database, opened once per process
    opened = time.perf_counter()
    ray_start_s = _ray_start() if args.executor == "ray" else 0.0
    chosen = Sleeping(data["sleep_s"], objective) if data["sleep_s"] else objective
    called = time.perf_counter()
    result = gnomon.tune(
        chosen,
        SPACE,
        n_trials=data["trials"],
        sampler="tpe",
        seed=data["seed"],
        parallelism=args.workers,
        executor=args.executor,
        worker_resources={"CPU": args.worker_cpus},
    )
    seconds = time.perf_counter() - called
    if args.executor == "ray":
        import ray

        ray.shutdown()
    emit(
        {
            "seconds": seconds,
            "ms_per_trial": seconds * 1000 / data["trials"],
            "with_start_s": seconds + ray_start_s,
            "ray_start_s": ray_start_s,
            "open_s": opened - imported,
            "import_s": IMPORTED - STARTED,
            "best_value": result.best.value,
            "trials": sum(result.states.values()),
            "complete": result.states.get("COMPLETE", 0),
            "runs": _trial_runs(result),
            "workers": args.workers,
            "executor": args.executor,
        }
    )


if __name__ == "__main__":
    main()
