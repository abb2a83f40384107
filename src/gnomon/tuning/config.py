"""``gnomon tune CONFIG.yaml``: a study described in YAML, checked before anything runs.

::

    study: rf-cancer
    objective: train:objective      # module:function, imported from the current folder
    direction: maximize             # or directions: [maximize, minimize]
    metric_names: [accuracy]
    n_trials: 40
    timeout: 60                     # seconds, for the whole study
    sampler: tpe                    # tpe | random | grid | cmaes
    pruner: median                  # median | hyperband | none
    parallelism: 2
    executor: local                 # local | ray
    worker_resources: {CPU: 1}      # what each Ray worker asks for
    seed: 0
    params: {target: label}         # fixed, given to the objective as trial.fixed
    space:
      n_estimators: {type: int, low: 10, high: 300, log: true}
      criterion: [gini, entropy]
    register: {name: cancer, alias: staging}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gnomon.errors import InvalidInput

MAX_CONFIG_BYTES = 1024 * 1024


class Register(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=256)]
    alias: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    model: Annotated[str, Field(min_length=1, max_length=256)] = "model"


class TuneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    objective: Annotated[str, Field(pattern=r"^[\w.]+:[\w.]+$", max_length=1000)]
    space: dict[str, Any] = Field(default_factory=dict)
    study: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    direction: Literal["minimize", "maximize"] = "minimize"
    directions: list[Literal["minimize", "maximize"]] | None = None
    metric_names: list[str] | None = None
    n_trials: Annotated[int, Field(ge=1, le=100_000)] | None = None
    timeout: Annotated[float, Field(gt=0)] | None = None
    sampler: Literal["tpe", "random", "grid", "cmaes"] = "tpe"
    pruner: Literal["median", "hyperband", "none"] | None = None
    parallelism: Annotated[int, Field(ge=1, le=256)] = 1
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    worker_resources: dict[str, float] | None = None
    seed: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    # "register" would shadow a BaseModel attribute: the YAML key is kept by its alias
    register_best: Register | None = Field(default=None, alias="register")


def load_config(path: Path) -> TuneConfig:
    """The config at ``path``; InvalidInput naming each wrong field."""
    import yaml

    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InvalidInput(f"{path} is over {MAX_CONFIG_BYTES // 1024} KiB: not a config")
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise InvalidInput(f"{path} is not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{path} must hold a mapping of settings")
    try:
        return TuneConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"{path}: {problems}") from None


def load_objective(ref: str) -> Any:
    """The function ``module:function`` names; the current folder is importable."""
    import importlib
    import os
    import sys

    from gnomon.errors import UserCodeError

    module, _, name = ref.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise InvalidInput(f"cannot import {module!r} for objective {ref!r}: {exc}") from None
    except Exception as exc:  # the module's own code raised while importing
        raise UserCodeError(
            f"importing {module!r} raised {type(exc).__name__}: {exc}", exc
        ) from None
    for part in name.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise InvalidInput(f"module {module!r} has no {name!r}")
    if not callable(found):
        raise InvalidInput(f"objective {ref!r} is a {type(found).__name__}, not a function")
    return found
