"""``gnomon demo``: train, track, register and serve a few models, and show what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gnomon.cli.output import (
    MISSING,
    console,
    display_uri,
    format_duration,
    hint,
    new_table,
    say,
    state_of,
)
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.demo import DataDemo, DemoResult, ModelSpec, ServingDemo
    from gnomon.demo_features import FeatureDemo
    from gnomon.demo_loop import LoopDemo
    from gnomon.demo_monitor import MonitorDemo
    from gnomon.demo_pipeline import PipelineDemo
    from gnomon.demo_tuning import TuningDemo
    from gnomon.evaluation import EvaluationResult


def demo(
    ctx: typer.Context,
    quick: Annotated[
        bool, typer.Option("--quick", help="Train three small models instead of five.")
    ] = False,
) -> None:
    """Train a few scikit-learn models on a bundled dataset and track each as a run."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    import gnomon
    from gnomon.demo import EXPERIMENT, model_specs, run_demo

    # The demo logs through the fluent SDK, whose client reads GNOMON_* itself and cannot be
    # handed ours: refuse rather than write to another workspace than the one asked for.
    wanted = state_of(ctx).settings.workspace
    if gnomon.get_client().settings.workspace != wanted:
        raise InvalidInput(f"gnomon demo cannot use --workspace: set GNOMON_WORKSPACE={wanted}")

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console(), transient=True) as progress:
        task = progress.add_task("training", total=len(model_specs(quick)))

        def trained(spec: ModelSpec) -> None:
            progress.update(task, advance=1, description=f"trained {spec.name}")

        result = run_demo(quick, on_trained=trained)
    _print_demo(result, EXPERIMENT)


# Params every demo run has; the table shows the hyperparameters that tell runs apart.
_NOT_SHOWN = frozenset({"model", "test_size"})


def _print_demo(result: DemoResult, experiment: str) -> None:
    from gnomon.demo import model_specs

    # Autologging adds every constructor argument; the table shows the ones the demo chose.
    chosen = {spec.name: set(spec.params) for spec in model_specs()}
    title = f"Experiment {experiment!r}, scored on the validation split"
    table = new_table(title, "run", "params", "accuracy", "f1", "roc_auc")
    table.add_column("duration")
    if result.data is not None:
        _print_data(result.data)
    for run in result.runs:
        shown = chosen.get(run.name, set()) - _NOT_SHOWN
        params = ", ".join(f"{k}={v}" for k, v in run.params.items() if k in shown)
        scores = [_score(run.metrics.get(key)) for key in ("accuracy", "f1", "roc_auc")]
        table.add_row(run.name, params, *scores, format_duration(run.duration_ms))
    table.columns[0].no_wrap = True
    console().print(table)
    if result.best is not None:
        best = result.best
        say(f"best run by f1: {best.name} (f1={_score(best.metrics.get('f1'))}, id {best.id})")
    if result.evaluation is not None and len(result.runs) > 1:
        _print_evaluation(result.evaluation)
    if result.winner is not None and result.best is not None:
        kept = "it held up" if result.winner.id == result.best.id else "it did not hold up"
        say(f"production: {result.winner.name} ({kept} on the test split)")
    version = result.registered
    if version is not None:
        aliases = ", ".join(version.aliases)
        say(f"registered: {version.model_name} version {version.version} as {aliases}")
        say(
            f"loaded back by models:/{version.model_name}@{version.aliases[0]}: "
            f"validation accuracy {_score(result.loaded_accuracy)}"
        )
    if result.served is not None:
        _print_serving(result.served)
    if result.features is not None:
        _print_features(result.features)
    if result.tuning is not None:
        _print_tuning(result.tuning)
    if result.loop is not None:
        _print_loop(result.loop)
    if result.pipelines is not None:
        _print_pipelines(result.pipelines)
    say(f"metadata:  {display_uri(result.store_uri)}")
    say(f"artifacts: {result.artifact_root}")
    hint(f"next: gnomon runs list --experiment {experiment}")
    if version is not None:
        hint(f"      gnomon models show {version.model_name}")
    hint("see it all in the browser: gnomon ui, then open http://127.0.0.1:5000/")


def _print_features(found: FeatureDemo) -> None:
    say(
        f"feature view {found.view}: {found.source_rows} rows; a point-in-time training frame "
        f"of {found.training_rows} rows ({found.training_nulls} values not known yet at their "
        f"row's time); {found.entities_online} patients materialised online"
    )
    for (patient, answer), direct in zip(found.by_id, found.by_rows, strict=True):
        say(f"  predict by id {{'patient_id': {patient}}} -> {answer} (sent in full: {direct})")
    hint("      gnomon features list; gnomon features materialize --incremental")


def _print_tuning(found: TuningDemo) -> None:
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(found.trials.items()))
    params = ", ".join(f"{k}={v}" for k, v in found.best_params.items())
    say(f"tuned a random forest in parallel, study {found.study}: {counts} trials")
    say(f"  best f1 {_score(found.best_f1)} with {params}; registered {found.registered}")
    hint(f"      gnomon tune show {found.study}")


def _print_loop(found: LoopDemo) -> None:
    firing = found.firing
    risk = firing["risk"] or {}
    shares = [f"{s:.0%}" for s in firing["alert"]["drift_shares"] if s][:3]
    say(
        "closed loop: drifted traffic → alert (drift share "
        f"{', '.join(shares) or MISSING}) → retraining → gate → risk → rollout"
    )
    gate = firing["gate"] or {}
    for source in ("holdout", "production"):
        judged = gate.get(source) or {}
        if "metrics" in judged:
            mine = judged["metrics"].get("accuracy")
            theirs = (judged.get("champion_metrics") or {}).get("accuracy")
            say(
                f"  gate on {source} ({judged['rows']} rows): accuracy {_score(mine)} against "
                f"the champion's {_score(theirs)}"
            )
    reasons = "; ".join(c["reason"] for c in risk.get("changes", [])[:3])
    say(f"  risk {risk.get('level', MISSING)}: {reasons}")
    for action, reason in found.promoted["decisions"]:
        say(f"  {action}: {reason}")
    say(f"  drifted traffic to promoted model: {found.drift_to_promotion_s:.1f} s")
    say(f"a bad candidate ({found.rolled_back['candidate']}), rolled out by hand:")
    for action, reason in found.rolled_back["decisions"][-1:]:
        say(f"  {action}: {reason}")
    say(f"  its first canary window to the rollback: {found.canary_to_rollback_s:.1f} s")
    say(f"  {found.requests} requests from 8 connections meanwhile, {found.failed} failed")
    hint("      gnomon policy firings demo-retrain-on-drift; gnomon rollout status demo-loop-api")


def _print_pipelines(flows: PipelineDemo) -> None:
    from gnomon.pipelines.cli_lineage import render

    say("the same training as a pipeline: load -> split -> train -> evaluate (gate) -> register")
    table = new_table(None, "run", "executor", "seconds", "steps")
    for done in (flows.first, flows.cached, flows.on_ray):
        if done is None:
            continue
        steps = ", ".join(f"{n} {status}" for status, n in sorted(done.counts.items()))
        table.add_row(done.run_id[:12], done.executor, f"{done.seconds:.2f}", steps)
    console().print(table)
    passed = "passed" if flows.gate.get("passed") else "failed"
    say(f"  the gate {passed}: {'; '.join(flows.gate.get('reasons', []))[:200]}")
    if flows.registered is not None:
        say(f"  registered {flows.registered}; its lineage:")
    if flows.lineage is not None:
        console().print(render(flows.lineage, "upstream"))
    if flows.ray_note:
        say(f"  {flows.ray_note}")
    hint("      gnomon pipeline list; gnomon lineage " + (flows.registered or "model:NAME/V"))


_EVALUATED = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")


def _print_data(data: DataDemo) -> None:
    shape = f"{data.rows} rows x {data.columns} columns"
    say(f"training data: {data.version} ({shape}, schema inferred)")
    say(f"  profile: {data.profile_path}")
    report = data.batch_report
    found = ", ".join(f"{a.kind} in {a.column!r} ({a.count})" for a in report.anomalies)
    say(f"  a second batch of {report.rows} rows against its schema: {found or 'no anomaly'}")


def _print_evaluation(evaluation: EvaluationResult) -> None:
    """The best model against the runner-up on the held-out test split: metrics, verdict,
    plots."""
    from gnomon.demo import SEGMENT

    baseline = evaluation.baseline_metrics or {}
    table = new_table(f"Evaluation ({evaluation.rows} test rows)", "metric", "best", "runner-up")
    for metric in _EVALUATED:
        if metric in evaluation.metrics:
            table.add_row(metric, _score(evaluation.metrics[metric]), _score(baseline.get(metric)))
    console().print(table)
    if evaluation.segments is not None:
        bands = ", ".join(
            f"{row[SEGMENT]} {_score(row['f1'])} vs {_score(row.get('baseline_f1'))}"
            for row in evaluation.segments.to_dict(orient="records")
        )
        say(f"  f1 by {SEGMENT}: {bands}")
    verdict = evaluation.verdict
    if verdict is not None:
        reasons = "; ".join(check.reason for check in verdict.checks)
        say(f"  verdict: {'passed' if verdict.passed else 'failed'} ({reasons})")
    plots = [path for path in evaluation.artifacts.values() if path.endswith(".png")]
    say(f"  {len(plots)} plots logged to run {evaluation.run_id}: " + ", ".join(plots))
    hint(f"  see: gnomon runs artifacts download {evaluation.run_id} evaluation --dest plots")


def _print_serving(served: ServingDemo) -> None:
    say(f"deployed it as {served.deployment!r}, served at {served.url}/predict:")
    request_id = served.answer["request_id"][:8]
    version = served.answer["model_version"]
    say(
        f"  3 rows -> predictions {served.answer['predictions']} "
        f"by version {version} (request {request_id}…)"
    )
    violations = served.refusal["error"]["details"].get("violations", [])
    say(f"  a bad request -> {served.refusal_status}, naming every problem:")
    for v in violations:
        say(f"    row {v['row']} {v['column']!r}: {v['problem']}, expected {v['expected']}")
    say(f"  {served.records} predictions recorded (Parquet, by deployment and hour)")
    _print_canary(served)
    if served.monitoring is not None:
        _print_monitoring(served.monitoring)


def _print_monitoring(watched: MonitorDemo) -> None:
    say(f"monitored it ({watched.monitor}): calm held-out traffic, then only the largest tumours")
    table = new_table(None, "window", "records", "drift share", "drifted columns", "accuracy")
    for index, window in enumerate(watched.windows, 1):
        table.add_row(
            str(index),
            str(window["rows"]),
            _score(window["drift_share"]),
            str(window["drifted"]),
            _score(window["accuracy"]),
        )
    console().print(table)
    shown = ", ".join(watched.drifted_columns[:5])
    more = len(watched.drifted_columns) - 5
    say(f"  drifted in the last window: {shown}" + (f" and {more} more" if more > 0 else ""))
    if watched.worst_segment is not None:
        accuracy = watched.segments[watched.worst_segment]
        say(
            f"  worst segment: mean radius in {watched.worst_segment} (accuracy {_score(accuracy)})"
        )
    for alert in watched.alerts:
        say(f"  alert {alert['kind']} to the webhook: {alert['title']}")
    say(f"  report: {watched.report_path}")
    hint(f"  next: gnomon monitor show {watched.monitor}")


def _print_canary(served: ServingDemo) -> None:
    canary = served.canary
    if canary is None:
        return
    say(
        f"canary: version {canary.version} ({canary.run_name}, the challenger) takes "
        f"{canary.weight}% of traffic, picked up by the running server without a restart"
    )
    table = new_table(f"{canary.requests} requests", "model version", "answered", "share")
    for number, count in canary.answered_by.items():
        table.add_row(str(number), str(count), f"{count / canary.requests:.0%}")
    console().print(table)
    recorded = ", ".join(f"{key}: {n}" for key, n in canary.recorded.items())
    say(f"  recorded by role and version: {recorded}")
    hint(
        f"  next: gnomon deploy status {served.deployment}; "
        f"gnomon deploy promote|rollback {served.deployment}"
    )


def _score(value: float | None) -> str:
    return MISSING if value is None else f"{value:.4f}"
