"""Samplers and pruners by name, over Optuna's own."""

from __future__ import annotations

from typing import Any

from gnomon.errors import InvalidInput
from gnomon.tuning.space import Space, grid

SAMPLERS = ("tpe", "random", "grid", "cmaes")
PRUNERS = ("median", "hyperband", "none")


def make_sampler(name: str, space: Space, seed: int | None, objectives: int) -> Any:
    """The named sampler; ``seed`` differs per worker so parallel workers do not propose the
    same points."""
    import optuna

    if name == "tpe":
        # constant_liar: a running trial's point counts as taken, so parallel workers spread
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler(grid(space), seed=seed)
    if name == "cmaes":
        if objectives > 1:
            raise InvalidInput("the cmaes sampler takes one objective: use tpe or random")
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise InvalidInput(
                "the cmaes sampler needs the cmaes package: pip install 'gnomon[cmaes]'"
            ) from None
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    raise InvalidInput(f"sampler must be one of {', '.join(SAMPLERS)}, got {name!r}")


def make_pruner(name: str | None, objectives: int) -> Any:
    import optuna

    if name is None or name == "none":
        return optuna.pruners.NopPruner()
    if objectives > 1:
        raise InvalidInput("pruning needs a single objective: Optuna cannot prune on several")
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    raise InvalidInput(f"pruner must be one of {', '.join(PRUNERS)}, got {name!r}")
