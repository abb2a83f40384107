"""TUNE on bare Optuna: the same study as ``tune.py`` (Rosenbrock, TPE with the data's seed and
``constant_liar=True`` as gnomon's ``tpe``, the same trial count) with Optuna's own storage on
the same engine, ``RDBStorage`` over ``sqlite:///<workdir>/optuna.db``; prints one JSON line.

With ``--storage journal`` the storage is gnomon's own journal of a study (Optuna's
``JournalStorage`` over ``client.tuning`` in ``GNOMON_HOME``) and no trial is tracked: gnomon's
side less this one is what tracking each trial as a run costs.

Optuna is a gnomon dependency, so this runs on the project venv like the gnomon side. The
storage (engine, tables) is made before the timed part (``open_s``), as gnomon's client is;
``seconds`` is ``create_study`` plus ``optimize``. Optuna's per-trial INFO lines are off, as
gnomon turns them off in its trials.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()

import optuna  # noqa: E402

from bench.workloads._common import emit, load, parser  # noqa: E402
from bench.workloads.tune_objective import Sleeping, optuna_objective  # noqa: E402

IMPORTED = time.perf_counter()


def _storage(kind: str, workdir: Path) -> Any:
    if kind == "rdb":
        return optuna.storages.RDBStorage(f"sqlite:///{workdir / 'optuna.db'}")
    import gnomon
    from gnomon.tuning.journal import storage

    tuning = gnomon.get_client().tuning  # type: ignore[attr-defined]
    return storage(tuning, tuning.create_study("tune", ["minimize"]).id)


def main() -> None:
    arguments = parser()
    arguments.add_argument("--storage", choices=("rdb", "journal"), default="rdb")
    args = arguments.parse_args()
    data = load(args.data)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    opening = time.perf_counter()
    storage = _storage(args.storage, args.workdir)
    opened = time.perf_counter()
    sampler = optuna.samplers.TPESampler(seed=data["seed"], constant_liar=True)
    chosen = Sleeping(data["sleep_s"], optuna_objective) if data["sleep_s"] else optuna_objective
    called = time.perf_counter()
    study = optuna.create_study(study_name="tune", storage=storage, sampler=sampler)
    study.optimize(chosen, n_trials=data["trials"])
    seconds = time.perf_counter() - called
    trials = study.get_trials(deepcopy=False)
    emit(
        {
            "seconds": seconds,
            "ms_per_trial": seconds * 1000 / data["trials"],
            "open_s": opened - opening,
            "import_s": IMPORTED - STARTED,
            "best_value": study.best_value,
            "trials": len(trials),
            "complete": sum(1 for t in trials if t.state == optuna.trial.TrialState.COMPLETE),
            "workers": 1,
            "executor": f"optuna-{args.storage}",
            "version": optuna.__version__,
        }
    )


if __name__ == "__main__":
    main()
