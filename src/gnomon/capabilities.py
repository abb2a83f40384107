"""The one list of gnomon's capabilities and what each contributes.

The migrations read their tables and revisions from it, the server their routers, the CLI
their commands, and ``open_services`` their embedded and remote services. Adding a
capability is a folder under ``gnomon/`` plus one entry in ``CAPABILITIES``.

Every part is named by an import string relative to the capability's package, so reading
the list imports nothing: ``gnomon --help`` lists every command without loading any of them.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Command:
    """A top-level CLI entry: ``target`` is ``"module:attribute"``, a Typer app (mounted as a
    group) or a function (mounted as a command); ``help`` is shown without importing it."""

    name: str
    target: str
    help: str


@dataclass(frozen=True, slots=True)
class Capability:
    """What one package under ``gnomon/`` contributes; module names are relative to it."""

    name: str
    tables: str | None = None  # module defining its tables on store.metadata
    migrations: str | None = None  # folder in the package holding its Alembic revisions
    # modules with a ``router``, mounted under /api/v1 (or the module's ``PREFIX``)
    routers: tuple[str, ...] = ()
    commands: tuple[Command, ...] = ()
    services: str | None = None  # "module:function" building its services (see backends.py)
    # Class names of service kinds, or names of `client.<name>` APIs, that a lookup may build
    # this capability for alone, ahead of those listed before it (services.py): its build
    # must not need them.
    provides: tuple[str, ...] = ()
    home: str | None = None  # the package, when it is not gnomon.<name> (a plugin, a test)

    @property
    def package(self) -> str:
        return self.home or f"gnomon.{self.name}"

    def module(self, name: str) -> str:
        return f"{self.package}.{name}"

    def load(self, target: str) -> Any:
        """The object ``"module:attribute"`` names, imported now."""
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(self.module(module)), attribute)

    def migrations_folder(self) -> Path | None:
        if self.migrations is None:
            return None
        spec = importlib.util.find_spec(self.package)
        assert spec is not None and spec.submodule_search_locations, self.package
        return Path(next(iter(spec.submodule_search_locations))) / self.migrations


# Order matters: a capability comes after those it builds on (tables with foreign keys,
# services that take another's), and commands are listed in this order.
CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        "cli",
        commands=(
            Command("version", "db:version", "Print the gnomon version."),
            Command("demo", "demo:demo", "Train, track, register and serve a few models."),
            Command(
                "notebook",
                "notebook:notebook",
                "JupyterLab with this workspace, URI and token set.",
            ),
            Command("db", "db:db_app", "Maintain the metadata store."),
        ),
    ),
    Capability(
        "auth",
        tables="tables",
        routers=("routes",),
        services="wiring:build",
        commands=(
            Command("login", "cli:login", "Log in to the server at GNOMON_URI, save the token."),
            Command("logout", "cli:logout", "Revoke the saved session token and forget it."),
            Command("whoami", "cli:whoami", "Who the saved session or GNOMON_TOKEN stands for."),
            Command("users", "cli:users_app", "Create, list, disable and enable users."),
            Command("workspaces", "cli:workspaces_app", "Create workspaces, manage members."),
            Command("tokens", "cli:tokens_app", "Create, list and revoke your API tokens."),
            Command("audit", "cli:audit", "The audit log of the workspace, newest first."),
        ),
    ),
    Capability(
        "tracking",
        tables="tables",
        routers=("routes",),
        services="wiring:build",
        commands=(
            Command("experiments", "cli:experiments_app", "Create, list, rename, delete, restore."),
            Command("runs", "cli:runs_app", "List, search, show, compare runs; charts, artifacts."),
        ),
    ),
    # Dataset versions: runs and models point to them.
    Capability(
        "data",
        tables="tables",
        migrations="migrations",
        routers=("routes",),
        services="wiring:build",
        commands=(Command("data", "cli:data_app", "Version datasets: add, show, checkout, diff."),),
    ),
    # Feature definitions (entities, views, services), versioned; views may read datasets.
    Capability(
        "features",
        tables="tables",
        migrations="migrations",
        routers=("routes", "registry_routes", "metrics_routes"),
        services="wiring:build",
        commands=(
            Command(
                "features", "cli:features_app", "Feature store: apply definitions, materialise."
            ),
        ),
    ),
    Capability(
        "registry",
        tables="tables",
        routers=("routes", "storage_routes"),
        services="wiring:build",
        provides=("LoggedModelPaths",),  # a run's first artifact write: data stays unbuilt
        commands=(
            Command("models", "cli:models_app", "Register, compare, alias and check models."),
        ),
    ),
    # Autologging and evaluation log runs and models: they build on tracking and the registry.
    Capability("autologging"),
    Capability("evaluation"),
    # MLflow's REST API over tracking and the registry, and MLflow's logged models.
    Capability(
        "mlflow_compat",
        tables="tables",
        migrations="migrations",
        routers=(
            "rest_tracking",
            "rest_logged_models",
            "rest_registry",
            "rest_artifacts",
        ),
        services="wiring:build",
        commands=(
            Command("import", "import_cli:import_app", "Import from MLflow: a tracking store."),
        ),
    ),
    Capability("predictions"),  # records and outcomes: written by serving, read by deployments
    Capability(
        "deployments",
        tables="tables",
        routers=("routes",),
        services="wiring:build",
        commands=(
            Command("deploy", "cli:deploy_app", "Route traffic: canary, A/B, shadow, rollback."),
        ),
    ),
    Capability(
        "serving",
        commands=(
            Command("serve", "cli:serve", "Serve a model or a deployment over REST."),
            Command("predict", "batch_cli:predict", "Predict on every row of a file, to Parquet."),
            Command("build-image", "packaging_cli:build_image", "A model's or the server's image."),
            Command("k8s", "packaging_cli:k8s_app", "Kubernetes manifests for deployments."),
        ),
    ),
    # Monitors read deployments' records and outcomes against their models' training data.
    Capability(
        "monitoring",
        tables="tables",
        migrations="migrations",
        routers=("routes",),
        services="wiring:build",
        commands=(
            Command("monitor", "cli:monitor_app", "Drift, quality, outliers, performance; alerts."),
        ),
    ),
    # Pipelines: DAGs of steps, their runs, cache, lineage and schedules. After monitoring,
    # whose alerts can start a pipeline, and before the worker that runs schedules.
    Capability(
        "pipelines",
        tables="tables",
        migrations="migrations",
        routers=("routes",),
        services="wiring:build",
        provides=("pipelines", "schedules"),  # a pipeline's run: monitoring and the rest unbuilt
        commands=(
            Command("pipeline", "cli:pipeline_app", "Run, resume, show and compile pipelines."),
            Command("lineage", "cli_lineage:lineage", "Where an object came from, what used it."),
            Command(
                "schedule",
                "cli_schedule:schedule_app",
                "Run pipelines on a cron, new data or an alert.",
            ),
        ),
    ),
    # Tuning: Optuna studies whose trials are runs; its component is a pipeline step.
    Capability(
        "tuning",
        tables="tables",
        migrations="migrations",
        routers=("routes",),
        services="wiring:build",
        commands=(Command("tune", "cli:tune_app", "Tune hyperparameters: run, show, list."),),
    ),
    # The closed loop: policies (schedules that retrain a model), the gate, change risk and
    # rollouts over deployments; after tuning, before the worker that runs it.
    Capability(
        "automation",
        tables="tables",
        migrations="migrations",
        routers=("metrics_routes", "routes"),
        services="wiring:build",
        commands=(
            Command("policy", "cli:policy_app", "Retrain on drift or new data; gate; roll out."),
            Command("rollout", "cli_rollout:rollout_app", "Progressive rollouts: status, approve."),
            Command("reproduce", "cli_reproduce:reproduce", "Re-run a run as recorded; compare."),
            Command("run", "cli_run:run", "Run a project's entry point at a git ref, recorded."),
        ),
    ),
    # Runs what is scheduled (monitors, pipeline schedules) beside the database; the API
    # server never runs pipelines (user code).
    Capability(
        "worker",
        commands=(
            Command("worker", "cli:worker", "Run scheduled monitors and pipelines until stopped."),
        ),
    ),
    # The web UI's pages are mounted by the API server; ``gnomon ui`` serves them on loopback.
    Capability(
        "ui",
        commands=(Command("ui", "cli:ui", "Open the web UI on 127.0.0.1 over the local store."),),
    ),
    Capability(
        "server",
        commands=(
            Command("server", "cli:server", "Serve the REST API, /docs, /healthz and /metrics."),
        ),
    ),
)


def capabilities() -> tuple[Capability, ...]:
    return CAPABILITIES


def table_modules() -> Iterator[str]:
    for capability in CAPABILITIES:
        if capability.tables is not None:
            yield capability.module(capability.tables)


def router_modules() -> Iterator[str]:
    for capability in CAPABILITIES:
        for router in capability.routers:
            yield capability.module(router)


def migration_folders() -> Iterator[Path]:
    for capability in CAPABILITIES:
        folder = capability.migrations_folder()
        if folder is not None:
            yield folder


def commands() -> Iterator[tuple[Capability, Command]]:
    for capability in CAPABILITIES:
        for command in capability.commands:
            yield capability, command
