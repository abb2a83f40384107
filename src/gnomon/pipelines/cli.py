"""``gnomon pipeline ...``: run, resume, list, show and compile pipelines from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_duration,
    format_time,
    new_table,
    print_json,
    printable,
    say,
    to_jsonable,
    write_text,
)
from gnomon.errors import InvalidInput
from gnomon.pipelines.entities import PipelineRun, StepRun
from gnomon.pipelines.executors import EXECUTORS
from gnomon.pipelines.loading import load_pipeline
from gnomon.pipelines.params import parse_pairs
from gnomon.pipelines.runner import RunResult, run_pipeline
from gnomon.progress import progress_bar

pipeline_app = typer.Typer(help="Run, resume, list, show and compile pipelines.")

Target = Annotated[
    str, typer.Argument(help="The pipeline, as module:attribute.", show_default=False)
]
RunId = Annotated[str, typer.Argument(help="A pipeline run's id.", show_default=False)]
Params = Annotated[
    list[str] | None, typer.Option("--param", "-p", help="A parameter, as key=value (repeat).")
]
Executor = Annotated[str, typer.Option(help=f"Where steps run: {', '.join(EXECUTORS)}.")]
Parallelism = Annotated[
    int | None, typer.Option(help="Steps at once (default: the CPUs, or the Ray cluster's).")
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        help="ray://HOST:PORT, a cluster's HOST:PORT, or auto (default: the Ray this machine"
        " runs, or a new local one)."
    ),
]
_DONE = ("succeeded", "cached", "failed", "skipped")


@pipeline_app.command("run")
def run(
    ctx: typer.Context,
    target: Target,
    param: Params = None,
    executor: Executor = "local",
    cache: Annotated[bool, typer.Option(help="Reuse a step's earlier outputs.")] = True,
    parallelism: Parallelism = None,
    ray_address: RayAddress = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Run a pipeline; exits non-zero naming the failed steps."""
    spec = load_pipeline(target).build()
    params = parse_pairs(spec, param or [])
    _execute(
        ctx,
        spec,
        params,
        output,
        executor=executor,
        cache=cache,
        parallelism=parallelism,
        ray_address=ray_address,
    )


@pipeline_app.command("resume")
def resume(
    ctx: typer.Context,
    run_id: RunId,
    executor: Executor = "local",
    parallelism: Parallelism = None,
    ray_address: RayAddress = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Run a failed run again from its failed steps: what succeeded is kept."""
    earlier = client_of(ctx).pipelines.get_run(run_id)
    if not earlier.function:
        raise InvalidInput(f"run {run_id} was not made from a @gnomon.pipeline function")
    spec = load_pipeline(earlier.function).build()
    _execute(
        ctx,
        spec,
        {},
        output,
        executor=executor,
        resume=run_id,
        parallelism=parallelism,
        ray_address=ray_address,
    )


def _execute(
    ctx: typer.Context, spec: Any, params: dict[str, Any], output: OutputFormat, **options: Any
) -> None:
    api = client_of(ctx).pipelines
    total = len(spec.nodes)
    finished = 0
    with progress_bar(f"pipeline {spec.name}", total=total, unit="steps") as advance:

        def on_event(node: str, status: str) -> None:
            nonlocal finished
            if status in _DONE:
                finished += 1
                advance(finished, total)

        result = run_pipeline(
            spec, api, params, on_event=on_event, raise_on_failure=False, **options
        )
    if output is OutputFormat.JSON:
        print_json(
            {"run": _run_dict(result.run), "steps": [_step_dict(s) for s in result.steps.values()]}
        )
    else:
        _summary(result)
    if result.status != "succeeded":
        raise typer.Exit(1)


def _summary(result: RunResult) -> None:
    counts = result.counts()
    shown = ", ".join(f"{counts[k]} {k}" for k in _DONE if counts.get(k))
    style = "green" if result.status == "succeeded" else "red"
    say(
        printable(f"Pipeline {result.run.pipeline} run {result.run.id} {result.status}: {shown}"),
        style,
    )
    for step in result.steps.values():
        if step.status == "failed":
            error = step.error or {}
            line = f"  step {step.node} failed: {error.get('type')}: {error.get('message', '')}"
            say(printable(line), "red")
    say(f"  gnomon pipeline show {result.run.id}")


@pipeline_app.command("list")
def list_runs(
    ctx: typer.Context,
    pipeline: Annotated[str | None, typer.Option(help="Only this pipeline's runs.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Pipeline runs, newest first."""
    found = client_of(ctx).pipelines.list_runs(pipeline, limit)
    if output is OutputFormat.JSON:
        print_json([_run_dict(r) for r in found])
        return
    table = new_table(None, "run", "pipeline", "status", "started", "duration", "trigger")
    for r in found:
        table.add_row(
            r.id,
            printable(r.pipeline),
            _status(r.status),
            format_time(r.started_ms),
            _took(r.started_ms, r.ended_ms),
            printable(r.trigger),
        )
    console().print(table)


@pipeline_app.command("show")
def show(ctx: typer.Context, run_id: RunId, output: OutputOption = OutputFormat.TABLE) -> None:
    """A run and each of its steps: status, attempts, duration, cache hit, outputs."""
    api = client_of(ctx).pipelines
    found = api.get_run(run_id)
    steps = api.steps(run_id)
    if output is OutputFormat.JSON:
        print_json({"run": _run_dict(found), "steps": [_step_dict(s) for s in steps]})
        return
    # Names, params, outputs and errors are whoever recorded them: printable() throughout.
    say(
        printable(
            f"Pipeline {found.pipeline} run {found.id}: {found.status}, "
            f"started {format_time(found.started_ms)}, {_took(found.started_ms, found.ended_ms)}"
        )
    )
    if found.params:
        say(printable("  params: " + ", ".join(f"{k}={v}" for k, v in found.params.items())))
    if found.resumed_from:
        say(printable(f"  resumed from {found.resumed_from}"))
    table = new_table(None, "step", "status", "attempts", "duration", "outputs", "cached from")
    for s in steps:
        outputs = "; ".join(f"{a.name}: {a.preview}" for a in s.artifacts if a.direction == "out")
        table.add_row(
            printable(s.node),
            _status(s.status),
            str(s.attempts),
            _took(s.started_ms, s.ended_ms),
            printable(outputs[:80] or MISSING),
            printable(s.cached_from or MISSING),
        )
    console().print(table)
    for s in steps:
        if s.status == "failed" and s.error:
            say(printable(f"{s.node}: {s.error.get('type')}: {s.error.get('message')}"), "red")
    pending = len(found.spec.get("steps", [])) - len(steps)
    if pending > 0:
        say(f"  {pending} steps not finished")


@pipeline_app.command("logs")
def logs(
    ctx: typer.Context,
    run_id: RunId,
    step: Annotated[str, typer.Argument(help="The step (node) id.")],
) -> None:
    """What a step printed and logged."""
    api = client_of(ctx).pipelines
    found = next((s for s in api.steps(run_id) if s.node == step), None)
    if found is None:
        raise InvalidInput(f"run {run_id} has no finished step {step[:100]!r}")
    if found.logs_digest is None:
        say(printable(f"step {step} printed nothing"))
        return
    write_text(printable(api.objects().open().get(found.logs_digest).decode(errors="replace")))


@pipeline_app.command("compile")
def compile_(
    target: Target,
    to: Annotated[
        str, typer.Option("--to", help="argo (Argo Workflows) or kfp (Kubeflow Pipelines IR).")
    ],
    image: Annotated[
        str, typer.Option(help="The image the steps run in (with gnomon and your code).")
    ],
    param: Params = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (default: print).")
    ] = None,
) -> None:
    """A workflow for Kubernetes whose steps run the same step code in an image."""
    from gnomon.pipelines.compile import compile_pipeline

    spec = load_pipeline(target).build()
    text = compile_pipeline(spec, to, image=image, params=parse_pairs(spec, param or []))
    if out is None:
        write_text(text)
        return
    out.write_text(text)
    say(f"Wrote {to} workflow for pipeline {spec.name} to {out}")


def _status(status: str) -> Text:
    colours = {"succeeded": "green", "cached": "cyan", "failed": "red", "skipped": "yellow"}
    return Text(status, style=colours.get(status, "white"))


def _took(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return MISSING
    return format_duration(end - start)


def _run_dict(run: PipelineRun) -> dict[str, Any]:
    found: dict[str, Any] = to_jsonable(run)
    found.pop("spec", None)
    return found


def _step_dict(step: StepRun) -> dict[str, Any]:
    found: dict[str, Any] = to_jsonable(step)
    return found


__all__ = ["pipeline_app"]
