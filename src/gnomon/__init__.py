"""gnomon: the whole ML model lifecycle in one package.

Heavy parts load on first use (PEP 562), so ``import gnomon`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gnomon._version import __version__
from gnomon.errors import (
    AlreadyExists,
    Conflict,
    GnomonError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
    UserCodeError,
)

if TYPE_CHECKING:
    from gnomon._types import Page, Scope
    from gnomon.autologging import autolog
    from gnomon.config import Settings
    from gnomon.data.fluent import load_dataset, log_dataset, log_input
    from gnomon.evaluation import evaluate
    from gnomon.features.fluent import get_online_features, get_training_frame, push_features
    from gnomon.pipelines.decorators import pipeline, step
    from gnomon.pipelines.fluent import run_pipeline
    from gnomon.registry.fluent import load_model, log_model, register_model
    from gnomon.sdk import Client
    from gnomon.tracking.entities import Experiment, Metric, Run, RunStatus
    from gnomon.tracking.fluent import (
        ActiveRun,
        active_run,
        end_run,
        flush,
        get_client,
        load_dict,
        load_table,
        log_artifact,
        log_dict,
        log_figure,
        log_image,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_table,
        log_text,
        search_runs,
        set_experiment,
        set_tag,
        set_tags,
        set_tracking_uri,
        set_workspace,
        start_run,
    )

_LAZY = {
    "Client": "gnomon.sdk",
    "Settings": "gnomon.config",
    "Page": "gnomon._types",
    "Scope": "gnomon._types",
    "Experiment": "gnomon.tracking.entities",
    "Metric": "gnomon.tracking.entities",
    "Run": "gnomon.tracking.entities",
    "RunStatus": "gnomon.tracking.entities",
    "log_model": "gnomon.registry.fluent",
    "log_dataset": "gnomon.data.fluent",
    "load_dataset": "gnomon.data.fluent",
    "log_input": "gnomon.data.fluent",
    "get_training_frame": "gnomon.features.fluent",
    "get_online_features": "gnomon.features.fluent",
    "push_features": "gnomon.features.fluent",
    "load_model": "gnomon.registry.fluent",
    "register_model": "gnomon.registry.fluent",
    "autolog": "gnomon.autologging",
    "evaluate": "gnomon.evaluation",
    "step": "gnomon.pipelines.decorators",
    "pipeline": "gnomon.pipelines.decorators",
    "run_pipeline": "gnomon.pipelines.fluent",
    # Not imported for type checkers above: tuning comes after pipelines, whose components
    # import gnomon, and the layering contract reads those imports too.
    "tune": "gnomon.tuning.tune",
    **{
        name: "gnomon.tracking.fluent"
        for name in (
            "ActiveRun",
            "active_run",
            "end_run",
            "flush",
            "get_client",
            "load_dict",
            "load_table",
            "log_artifact",
            "log_dict",
            "log_figure",
            "log_image",
            "log_metric",
            "log_metrics",
            "log_param",
            "log_params",
            "log_table",
            "log_text",
            "search_runs",
            "set_experiment",
            "set_tag",
            "set_tags",
            "set_tracking_uri",
            "set_workspace",
            "start_run",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gnomon' has no attribute {name!r}")
    from gnomon._gc import collection_paused

    with collection_paused():  # the SDK's modules: what they build lives on (_gc.py)
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ActiveRun",
    "AlreadyExists",
    "Client",
    "Conflict",
    "Experiment",
    "GnomonError",
    "InvalidInput",
    "Metric",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "Run",
    "RunStatus",
    "Scope",
    "Settings",
    "Unauthenticated",
    "Unavailable",
    "UserCodeError",
    "__version__",
    "active_run",
    "autolog",
    "end_run",
    "evaluate",
    "flush",
    "get_client",
    "get_online_features",
    "get_training_frame",
    "load_dataset",
    "load_dict",
    "load_model",
    "load_table",
    "log_artifact",
    "log_dataset",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "pipeline",
    "push_features",
    "register_model",
    "run_pipeline",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "set_workspace",
    "start_run",
    "step",
    "tune",
]
