"""The loop's gate: the candidate against the champion on the same rows, twice — the policy's
holdout dataset, and the deployment's recent labelled records (what production asked, with
the outcomes that came back) — each judged by the policy's thresholds, and the result kept
with its evidence (rows, both sides' metrics, every check).

It passes when every source that had rows passed; a source without enough rows is reported
and left out, and a gate with no source at all fails: nothing is promoted on no evidence.
Loading and scoring the models runs their code: only the worker calls this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gnomon.automation.spec import GateSpec
from gnomon.pipelines.components.gate import gate_conditions, plain_metrics

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.artifacts.store import ArtifactStore
    from gnomon.sdk import Client

MAX_PRODUCTION_ROWS = 50_000  # the newest labelled records the gate reads


def run_gate(
    client: Client,
    gate: GateSpec,
    deployment: str,
    candidate: str,
    champion: str | None,
    records: ArtifactStore,
    now_ms: int,
) -> dict[str, Any]:
    """``{"passed", "reasons", "holdout", "production"}``; ``candidate`` and ``champion`` are
    ``models:/`` URIs (``champion`` None: the thresholds alone decide)."""
    from gnomon.registry.fluent import load_model

    model = load_model(candidate, client)
    baseline = None if champion is None else load_model(champion, client)
    conditions = gate_conditions(gate.thresholds, gate.model_type, baseline is not None)
    sources: dict[str, Any] = {}
    if gate.holdout is not None:
        frame = client.datasets.load(gate.holdout)  # type: ignore[attr-defined]
        sources["holdout"] = _judge(model, baseline, frame, gate, conditions, gate.holdout)
    else:
        sources["holdout"] = {"skipped": "the policy names no holdout dataset"}
    production, said = _labelled(records, deployment, gate, now_ms)
    if production is None:
        sources["production"] = {"skipped": said}
    else:
        sources["production"] = _judge(model, baseline, production, gate, conditions, said)
    judged = {k: v for k, v in sources.items() if "passed" in v}
    reasons = [f"{name}: {reason}" for name, v in judged.items() for reason in v["reasons"]]
    reasons += [f"{name}: {v['skipped']}" for name, v in sources.items() if "skipped" in v]
    if not judged:
        reasons.append("no evidence: neither a holdout nor labelled production records")
    passed = bool(judged) and all(v["passed"] for v in judged.values())
    return {
        "passed": passed,
        "reasons": reasons,
        "candidate": candidate,
        "champion": champion,
        **sources,
    }


def _judge(
    model: Any,
    baseline: Any,
    frame: pd.DataFrame,
    gate: GateSpec,
    conditions: dict[str, Any],
    source: str,
) -> dict[str, Any]:
    from gnomon.evaluation.evaluating import score

    scored = score(
        model,
        frame,
        gate.target,
        model_type=gate.model_type,
        baseline=baseline,
        thresholds=conditions or None,
        plots=False,
    )
    verdict = scored.verdict
    reasons = (
        [f"{check.metric}: {check.reason}" for check in verdict.checks]
        if verdict is not None
        else ["no thresholds and no champion: nothing to fail"]
    )
    return {
        "source": source,
        "rows": scored.rows,
        "passed": verdict is None or verdict.passed,
        "metrics": plain_metrics(scored.metrics),
        "champion_metrics": plain_metrics(scored.baseline_metrics),
        "reasons": reasons,
    }


def _labelled(
    records: ArtifactStore, deployment: str, gate: GateSpec, now_ms: int
) -> tuple[pd.DataFrame | None, str]:
    """The deployment's live answers of the window that have an outcome (the newest
    ``MAX_PRODUCTION_ROWS``), as the model's inputs plus the target column; None and why,
    when too few. Only the window's hour partitions are read."""
    import pandas as pd

    from gnomon.automation.evidence import live_inputs

    start = now_ms - int(gate.production_window_s * 1000)
    inputs, outcomes = live_inputs(
        records, deployment, start, now_ms + 1, MAX_PRODUCTION_ROWS, labelled=True
    )
    hours = gate.production_window_s / 3600
    if len(inputs) < gate.min_production_rows:
        return None, (
            f"{len(inputs)} labelled records in the last {hours:g} h, "
            f"fewer than the {gate.min_production_rows} wanted"
        )
    frame = pd.DataFrame(inputs)
    frame[gate.target] = outcomes
    return frame, f"{len(frame)} labelled records of the last {hours:g} h"


__all__ = ["MAX_PRODUCTION_ROWS", "run_gate"]
