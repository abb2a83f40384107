"""``gnomon models ...``: the model registry from the shell, thin commands over the registry."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    every_page,
    format_time,
    format_value,
    hint,
    new_table,
    print_json,
    say,
)
from gnomon.errors import InvalidInput, NotFound
from gnomon.evaluation.comparison import evaluation_rows
from gnomon.tracking.cli import add_compare_rows
from gnomon.tracking.comparison import CompareRow, compare_rows, lower_is_better, values_differ
from gnomon.tracking.entities import Run, RunStatus

if TYPE_CHECKING:
    from gnomon.modelfolder import ColumnSpec, Contract
    from gnomon.registry.api import RegistryApi
    from gnomon.registry.entities import ModelVersion, RegisteredModel
    from gnomon.sdk import Client

models_app = typer.Typer(help="List, show, register, compare, promote and check registered models.")
alias_app = typer.Typer(help="Point aliases at versions, remove them and see who moved them.")
contract_app = typer.Typer(help="Show and edit the input contract a version enforces.")
models_app.add_typer(alias_app, name="alias")
models_app.add_typer(contract_app, name="contract")

AliasOption = Annotated[
    str | None, typer.Option("--alias", "-a", help="Point this alias at the new version.")
]
_GIT_TAGS = {
    "code": "gnomon.git.commit",
    "branch": "gnomon.git.branch",
    "dirty": "gnomon.git.dirty",
}


def _registry(ctx: typer.Context) -> RegistryApi:
    return client_of(ctx).registry


def _aliases(aliases: dict[str, int] | list[str]) -> str:
    if isinstance(aliases, dict):
        return ", ".join(f"@{a}→v{v}" for a, v in sorted(aliases.items())) or MISSING
    return ", ".join(f"@{a}" for a in sorted(aliases)) or MISSING


# -- models and versions ---------------------------------------------------------------------


@models_app.command("list")
def list_models(
    ctx: typer.Context,
    name_like: Annotated[
        str | None,
        typer.Option("--name-like", help="SQL LIKE pattern, case-insensitive: 'churn%'."),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List registered models with their latest version and aliases."""
    registry = _registry(ctx)
    found = every_page(lambda token: registry.search_models(name_like, page_token=token))
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(None, "name", "latest", "aliases", "description", "updated")
    for model in found:
        table.add_row(
            model.name,
            format_value(model.latest_version),
            _aliases(model.aliases),
            model.description or MISSING,
            format_time(model.updated_time, compact=True),
        )
    console().print(table)


@models_app.command("show")
def show_model(
    ctx: typer.Context,
    name: str,
    version: Annotated[
        str | None,
        typer.Option("--version", help="Whose contract to show: number or alias; default latest."),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Show a registered model, its versions (newest first) and a version's contract."""
    registry = _registry(ctx)
    model = registry.get_model(name)
    versions = every_page(lambda token: registry.search_versions(name, page_token=token))
    shown = _shown_version(registry, name, version)
    contract = registry.get_contract(name, shown.version) if shown else None
    if output is OutputFormat.JSON:
        body = None
        if shown is not None:
            body = {"version": shown.version, "contract": contract and contract.to_dict()}
        print_json({"model": model, "versions": versions, "contract": body})
        return
    console().print(_model_table(model))
    console().print(_versions_table(versions))
    if shown is not None:
        _print_contract(name, shown.version, contract)


def _shown_version(registry: RegistryApi, name: str, selector: str | None) -> ModelVersion | None:
    """The version whose contract ``models show`` prints: the one asked for, else the
    latest READY one (none when every version is archived or there is none)."""
    if selector is not None:
        return registry.get_version(name, selector)
    try:
        return registry.get_version(name)
    except NotFound:
        return None


def _model_table(model: RegisteredModel) -> Table:
    table = new_table(f"Model {model.name}", "field", "value")
    rows = {
        "description": model.description or MISSING,
        "latest version": format_value(model.latest_version),
        "aliases": _aliases(model.aliases),
        "created": format_time(model.created_time),
        "updated": format_time(model.updated_time),
        "tags": ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items())) or MISSING,
    }
    for key, value in rows.items():
        table.add_row(key, value)
    return table


def _versions_table(versions: Sequence[ModelVersion]) -> Table:
    table = new_table("Versions", "version", "status", "aliases", "flavor")
    table.add_column("run id", no_wrap=True)
    for column in ("created by", "created", "description"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            str(v.version),
            v.status.value,
            _aliases(v.aliases),
            v.flavor,
            v.run_id or MISSING,
            v.created_by,
            format_time(v.created_time, compact=True),
            v.description or MISSING,
        )
    return table


@models_app.command("register")
def register(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="runs:/<run id>/<path> of a logged model.")],
    name: str,
    alias: AliasOption = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    """Register a run's logged model as the next version of NAME (created if needed)."""
    version = _registry(ctx).register(source, name, description=description, alias=alias)
    _say_registered(version, alias)


def _say_registered(version: ModelVersion, alias: str | None) -> None:
    suffix = f" (@{alias})" if alias else ""
    say(f"registered {version.model_name} version {version.version}{suffix}")


@models_app.command("import-mlflow")
def import_mlflow(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An MLflow model folder (with an MLmodel file).")],
    name: str,
    alias: AliasOption = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    """Register an MLflow model folder (sklearn or python_function flavor) as a version of NAME."""
    version = _registry(ctx).import_mlflow(path, name, alias=alias, description=description)
    _say_registered(version, alias)


@models_app.command("archive")
def archive_version(ctx: typer.Context, name: str, version: int) -> None:
    """Archive a version: it stays loadable by number but is no longer "latest"."""
    found = _registry(ctx).archive_version(name, version)
    say(f"archived {found.model_name} version {found.version}")


@models_app.command("delete")
def delete_version(ctx: typer.Context, name: str, version: int) -> None:
    """Delete a version for good; aliases pointing at it are removed."""
    _registry(ctx).delete_version(name, version)
    say(f"deleted {name} version {version}")


@models_app.command("delete-model")
def delete_model(ctx: typer.Context, name: str) -> None:
    """Delete a registered model that has no versions left."""
    _registry(ctx).delete_model(name)
    say(f"deleted model {name!r}")


# -- aliases ---------------------------------------------------------------------------------


@alias_app.command("set")
def set_alias(ctx: typer.Context, name: str, alias: str, version: int) -> None:
    """Point ALIAS of model NAME at VERSION (recorded with who and when)."""
    event = _registry(ctx).set_alias(name, alias, version)
    was = f" (was version {event.previous})" if event.previous is not None else ""
    say(f"{name}@{alias} → version {event.version}{was}")


@alias_app.command("rm")
def remove_alias(ctx: typer.Context, name: str, alias: str) -> None:
    """Remove ALIAS from model NAME."""
    event = _registry(ctx).delete_alias(name, alias)
    say(f"removed {name}@{alias} (was version {format_value(event.previous)})")


@alias_app.command("history")
def alias_history(
    ctx: typer.Context,
    name: str,
    alias: Annotated[str | None, typer.Option("--alias", "-a", help="Only this alias.")] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Every move of the model's aliases, oldest first: who, when, from and to which version."""
    events = _registry(ctx).alias_history(name, alias)
    if output is OutputFormat.JSON:
        print_json(events)
        return
    table = new_table(f"Alias history of {name}", "time", "alias", "from", "to", "by")
    for e in events:
        to = "removed" if e.version is None else str(e.version)
        table.add_row(format_time(e.time), e.alias, format_value(e.previous), to, e.actor)
    console().print(table)


# -- compare ---------------------------------------------------------------------------------


@models_app.command("compare")
def compare_versions(
    ctx: typer.Context,
    name: str,
    versions: Annotated[list[str], typer.Argument(help="Two or more versions or aliases.")],
    data: Annotated[
        bool,
        typer.Option(
            "--data/--no-data",
            help="Show each version's training data (downloads each model folder).",
        ),
    ] = True,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """The versions' runs' params, metrics and evaluations side by side, then their lineage.

    The evaluation rows are what ``gnomon.evaluate`` logged in each version's run: its
    metrics and, where thresholds were given, the verdict.
    """
    client = client_of(ctx)
    found = _distinct_versions(client.registry, name, versions)
    runs = [_version_run(client, v) for v in found]
    rows = evaluation_rows(compare_rows(runs), runs) + _lineage_rows(client, found, runs, data)
    if output is OutputFormat.JSON:
        listed = [
            {"version": v.version, "label": r.id, "run_id": v.run_id}
            for v, r in zip(found, runs, strict=True)
        ]
        print_json({"model": name, "versions": listed, "rows": rows})
        return
    for section in ("params", "metrics", "evaluation", "lineage"):
        section_rows = [row for row in rows if row.section == section]
        if section_rows:
            console().print(_compare_table(section.capitalize(), found, runs, section_rows))


def _distinct_versions(
    registry: RegistryApi, name: str, selectors: Sequence[str]
) -> list[ModelVersion]:
    found: dict[int, ModelVersion] = {}
    for selector in selectors:
        version = registry.get_version(name, selector)
        found.setdefault(version.version, version)
    if len(found) < 2:
        raise InvalidInput("models compare needs at least two different versions")
    return list(found.values())


def _version_run(client: Client, version: ModelVersion) -> Run:
    """The version's run, renamed to ``v<number>``: two versions may come from one run, and
    an imported version has none (it compares as a run without params or metrics)."""
    label = f"v{version.version}"
    if version.run_id is None:
        return _no_run(label)
    try:
        return replace(client.get_run(version.run_id), id=label)
    except NotFound:  # the run was deleted for good; the version outlives it
        return _no_run(label)


def _no_run(label: str) -> Run:
    return Run(label, "", MISSING, RunStatus.FINISHED, 0, None, "", "")


def _lineage_rows(
    client: Client, versions: Sequence[ModelVersion], runs: Sequence[Run], data: bool
) -> list[CompareRow]:
    values: dict[str, dict[str, str | float | None]] = {}
    for version, run in zip(versions, runs, strict=True):
        lineage: dict[str, str | None] = {
            "source": version.source,
            "run id": version.run_id,
            "flavor": version.flavor,
            **{key: run.tags.get(tag) for key, tag in _GIT_TAGS.items()},
            "created by": version.created_by,
        }
        if data:
            lineage["data"] = _training_data(client, version)
        for key, value in lineage.items():
            values.setdefault(key, {})[run.id] = value
    return [
        CompareRow("lineage", key, row, values_differ(row.values())) for key, row in values.items()
    ]


def _training_data(client: Client, version: ModelVersion) -> str | None:
    from gnomon.modelfolder import read_spec

    uri = f"models:/{version.model_name}/{version.version}"
    with tempfile.TemporaryDirectory(prefix="gnomon-compare-") as tmp:
        return read_spec(client.registry.download_version(uri, Path(tmp))).training_data


def _compare_table(
    title: str, versions: Sequence[ModelVersion], runs: Sequence[Run], rows: Sequence[CompareRow]
) -> Table:
    table = new_table(title, "key")
    for version, run in zip(versions, runs, strict=True):
        table.add_column(f"v{version.version}\n{run.name}", overflow="fold")
    return add_compare_rows(table, runs, rows)


# -- best ------------------------------------------------------------------------------------


@models_app.command("best")
def best_run(
    ctx: typer.Context,
    experiment: Annotated[str, typer.Option("--experiment", "-e", help="Experiment name or id.")],
    metric: Annotated[str, typer.Option("--metric", "-m", help="The metric to rank runs by.")],
    filter_: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="More conditions, e.g. \"params.model = 'rf'\""),
    ] = None,
    lower: Annotated[
        bool | None,
        typer.Option(
            "--lower-is-better/--higher-is-better",
            help="Default: guessed from the metric's name (loss, error, rmse... are lower).",
            show_default=False,
        ),
    ] = None,
    model_path: Annotated[
        str | None,
        typer.Option("--model-path", help="Default: the run's first logged model, else 'model'."),
    ] = None,
    register_as: Annotated[
        str | None, typer.Option("--register", help="Register the best run's model as NAME.")
    ] = None,
    alias: AliasOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Find the best FINISHED run of an experiment by a metric; optionally register its model."""
    if alias is not None and register_as is None:
        raise InvalidInput("--alias needs --register NAME")
    client = client_of(ctx)
    lower = lower_is_better(metric) if lower is None else lower
    run = _best(client, experiment, metric, filter_, lower)
    version = None
    if register_as is not None:
        source = f"runs:/{run.id}/{model_path or _logged_model(run)}"
        version = client.registry.register(source, register_as, alias=alias)
    if output is OutputFormat.JSON:
        picked = {"id": run.id, "name": run.name, "metric": metric, "value": run.metrics[metric]}
        print_json({"run": picked, "lower_is_better": lower, "version": version})
        return
    direction = "lowest" if lower else "highest"
    value = run.metrics[metric]
    say(f"best run by {metric} ({direction}): {run.name} ({run.id}) {metric}={value:.6g}")
    if version is not None:
        _say_registered(version, alias)


def _best(client: Client, experiment: str, metric: str, extra: str | None, lower: bool) -> Run:
    key = f"metrics.`{metric}`"
    # `> -1e308` keeps only runs where the metric is a number: absent and NaN are left out.
    # The filter language has only `and`, so appending the user's conditions is safe.
    query = f"status = 'FINISHED' and {key} > -1e308" + (f" and {extra}" if extra else "")
    order = [f"{key} {'ASC' if lower else 'DESC'}"]
    page = client.search_runs(experiment, filter=query, order_by=order, max_results=1)
    if not page.items:
        where = f" matching {extra!r}" if extra else ""
        raise NotFound(f"no FINISHED run of experiment {experiment!r}{where} has metric {metric!r}")
    return page.items[0]


def _logged_model(run: Run) -> str:
    from gnomon.registry.fluent import LOGGED_MODELS_TAG  # the fluent API loads the SDK: slow

    logged = [path for path in run.tags.get(LOGGED_MODELS_TAG, "").split(",") if path]
    return logged[0] if logged else "model"


# -- contracts -------------------------------------------------------------------------------


@contract_app.command("show")
def show_contract(
    ctx: typer.Context,
    name: str,
    version: Annotated[str | None, typer.Argument(help="Number or alias; default: latest.")] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Show a version's input and output columns: dtype, nullable, bounds, categories."""
    registry = _registry(ctx)
    found = registry.get_version(name, version)
    contract = registry.get_contract(name, found.version)
    if output is OutputFormat.JSON:
        body = contract.to_dict() if contract else None
        print_json({"model": name, "version": found.version, "contract": body})
        return
    _print_contract(name, found.version, contract)


def _print_contract(name: str, version: int, contract: Contract | None) -> None:
    if contract is None:
        say(f"{name} version {version} has no contract (logged without an input example)")
        return
    for title, columns in (("Inputs", contract.inputs), ("Outputs", contract.outputs)):
        if columns:
            console().print(_columns_table(f"{title} of {name} version {version}", columns))
    hint(f"margin: {contract.margin:g} of each range on either side")


def _columns_table(title: str, columns: Sequence[ColumnSpec]) -> Table:
    table = new_table(title, "column", "dtype", "nullable", "min", "max", "categories")
    for c in columns:
        categories = ", ".join(map(str, c.categories)) if c.categories is not None else MISSING
        nullable = "yes" if c.nullable else "no"
        table.add_row(
            c.name, c.dtype, nullable, format_value(c.minimum), format_value(c.maximum), categories
        )
    return table


@contract_app.command("edit")
def edit_contract(
    ctx: typer.Context,
    name: str,
    version: Annotated[str, typer.Argument(help="Number or alias.")],
    column: Annotated[str, typer.Option("--column", "-c", help="The input column to change.")],
    minimum: Annotated[float | None, typer.Option("--min", help="Lowest accepted value.")] = None,
    maximum: Annotated[float | None, typer.Option("--max", help="Highest accepted value.")] = None,
    categories: Annotated[
        str | None,
        typer.Option("--categories", help="Accepted values, comma-separated; '' clears."),
    ] = None,
    nullable: Annotated[
        bool | None, typer.Option("--nullable/--not-nullable", show_default=False)
    ] = None,
    dtype: Annotated[
        str | None, typer.Option("--dtype", help="int64, float64, bool, string...")
    ] = None,
) -> None:
    """Change one input column of a version's contract (what the model server enforces)."""
    registry = _registry(ctx)
    found = registry.get_version(name, version)
    contract = _contract_of(registry, found)
    if column not in contract.input_names:
        known = ", ".join(contract.input_names)
        raise InvalidInput(
            f"{name} version {found.version} has no input column {column!r} (columns: {known})"
        )
    current = contract.column(column)
    changes = _changes(current, minimum, maximum, categories, nullable, dtype)
    if not changes:
        raise InvalidInput(
            "nothing to change: pass --min, --max, --categories, --nullable or --dtype"
        )
    edited = contract.with_column(column, **changes)
    registry.set_contract(name, found.version, edited)
    spec = _describe(edited.column(column))
    say(f"updated column {column!r} of {name} version {found.version}: {spec}")


def _contract_of(registry: RegistryApi, version: ModelVersion) -> Contract:
    contract = registry.get_contract(version.model_name, version.version)
    if contract is None:
        raise InvalidInput(
            f"{version.model_name} version {version.version} has no contract to edit"
        )
    return contract


def _changes(
    current: ColumnSpec,
    minimum: float | None,
    maximum: float | None,
    categories: str | None,
    nullable: bool | None,
    dtype: str | None,
) -> dict[str, Any]:
    """The fields an edit sets; an option left out keeps the column's value."""
    target = dtype or current.dtype
    changes: dict[str, Any] = {}
    if minimum is not None:
        changes["minimum"] = _number(minimum, target)
    if maximum is not None:
        changes["maximum"] = _number(maximum, target)
    if categories is not None:
        changes["categories"] = _categories(categories, target)
    if nullable is not None:
        changes["nullable"] = nullable
    if dtype is not None:
        changes["dtype"] = dtype
    return changes


def _categories(text: str, dtype: str) -> list[Any] | None:
    values = [part.strip() for part in text.split(",") if part.strip()]
    if not values:
        return None
    if dtype in ("int64", "float64"):
        try:
            return [_number(float(v), dtype) for v in values]
        except ValueError:
            raise InvalidInput(
                f"--categories of a {dtype} column must be numbers: {text!r}"
            ) from None
    return values


def _number(value: float | None, dtype: str) -> float | int | None:
    if value is not None and dtype == "int64" and value.is_integer():
        return int(value)
    return value


def _describe(spec: ColumnSpec) -> str:
    parts = [spec.dtype + ("?" if spec.nullable else "")]
    if spec.minimum is not None or spec.maximum is not None:
        parts.append(f"in [{format_value(spec.minimum)}, {format_value(spec.maximum)}]")
    if spec.categories is not None:
        parts.append(f"one of {spec.categories}")
    return " ".join(parts)


# -- load-check ------------------------------------------------------------------------------


@models_app.command("load-check")
def load_check(ctx: typer.Context, uri: str, output: OutputOption = OutputFormat.TABLE) -> None:
    """Load a model by URI (models:/..., runs:/... or a folder) and say what it is."""
    from gnomon.registry.fluent import load_model

    model = load_model(uri, client_of(ctx))
    contract = model.contract
    if output is OutputFormat.JSON:
        body = contract.to_dict() if contract else None
        print_json(
            {"uri": uri, "flavor": model.flavor, "predict_proba": model.has_proba, "contract": body}
        )
        return
    say(f"loaded {uri}: flavor {model.flavor}, predict_proba {'yes' if model.has_proba else 'no'}")
    say(contract.describe() if contract else "no contract")
