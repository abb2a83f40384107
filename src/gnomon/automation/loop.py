"""What follows a policy's pipeline run, in the worker: find the version the run registered,
gate it against the champion, classify the change's risk from the two versions' lineage and
start the rollout that risk calls for; and the rollout's smoke test.

Each step is recorded on the firing as it happens (status, gate with its evidence, risk with
its reasons, the rollout), so a person can see where a retraining stopped and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gnomon._types import Scope, now_ms
from gnomon.automation.entities import Firing, Policy, Rollout
from gnomon.automation.evidence import live_inputs
from gnomon.automation.gate import run_gate
from gnomon.automation.plans import plan_for
from gnomon.automation.rollouts import RolloutService
from gnomon.automation.sql import SqlAutomationStore
from gnomon.deployments.entities import ArmRole
from gnomon.errors import InvalidInput, NotFound
from gnomon.pipelines.components._common import PIPELINE_RUN_TAG
from gnomon.pipelines.schedule_entities import Tick

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.artifacts.store import ArtifactStore
    from gnomon.config import Settings
    from gnomon.registry.service import RegistryService
    from gnomon.sdk import Client

DAY_MS = 86_400_000


class Loop:
    """The closed loop's worker side: ``follow`` for policies, ``smoke`` for rollouts."""

    def __init__(
        self,
        store: SqlAutomationStore,
        rollouts: RolloutService,
        registry: RegistryService,
        settings: Settings,
    ) -> None:
        self.store = store
        self.rollouts = rollouts
        self.registry = registry
        self.settings = settings

    def client(self, scope: Scope) -> Client:
        from gnomon.sdk import Client

        return Client(settings=self.settings, scope=scope)

    def follow(self, scope: Scope, policy: Policy, firing: Firing, tick: Tick) -> None:
        spec = policy.spec
        client = self.client(scope)
        found = self.registry.search_versions(
            scope, spec.model, tags={PIPELINE_RUN_TAG: tick.pipeline_run_id}, max_results=1
        ).items
        if not found:
            said = f"pipeline run {tick.pipeline_run_id} registered no version of {spec.model!r}"
            self.store.update_firing(firing.id, now_ms(), status="no_candidate", message=said)
            return
        candidate = found[0].version
        _, arms = client.deployments.resolve(spec.deployment)
        primary = next(a for a in arms if a.arm.role is ArmRole.PRIMARY)
        champion = primary.version if primary.arm.model == spec.model else None
        if champion == candidate:
            said = (
                f"{spec.deployment!r} already serves {spec.model}/{candidate}: its primary "
                f"follows {primary.arm.selector!r}; route it to a version or an alias "
                f"({spec.champion_alias}) so that a new version is rolled out, not served at once"
            )
            self.store.update_firing(firing.id, now_ms(), status="failed", message=said)
            return
        self.store.update_firing(
            firing.id, now_ms(), status="gating", candidate_version=candidate,
            champion_version=champion,
        )  # fmt: skip
        records = self.rollouts.predictions(scope)
        champion_uri = f"models:/{primary.arm.model}/{primary.version}"
        gate = run_gate(
            client, spec.gate, spec.deployment, f"models:/{spec.model}/{candidate}",
            champion_uri, records, now_ms(),
        )  # fmt: skip
        if not gate["passed"]:
            self.store.update_firing(
                firing.id, now_ms(), status="rejected", gate=gate,
                message="the gate failed: " + "; ".join(gate["reasons"])[:2000],
            )  # fmt: skip
            return
        risk = change_risk(
            client, spec.model, candidate, primary.arm.model, primary.version, spec.gate.target
        )
        plan = plan_for(risk["level"], spec.rollout, spec.gate, alias=spec.champion_alias)
        self.store.update_firing(firing.id, now_ms(), gate=gate, risk=risk)
        rollout = self.rollouts.start(
            scope, spec.deployment, spec.model, candidate, plan, risk, firing_id=firing.id
        )
        self.store.update_firing(firing.id, now_ms(), status="rolling_out", rollout_id=rollout.id)

    def smoke(self, scope: Scope, rollout: Rollout) -> str | None:
        """None when the candidate answers its sample rows, one answer a row; ``"wait: …"``
        while there are no rows to try it on; else what went wrong."""
        from gnomon.registry.fluent import load_model

        client = self.client(scope)
        rows = self._sample(client, scope, rollout)
        if rows is None or not len(rows):
            return "wait: no rows to smoke-test the candidate on yet (no sample, no records)"
        model = load_model(f"models:/{rollout.candidate}", client)
        answers = model.predict(rows)
        if len(answers) != len(rows):
            return f"{len(answers)} answers for {len(rows)} rows"
        return None

    def _sample(self, client: Client, scope: Scope, rollout: Rollout) -> pd.DataFrame | None:
        import pandas as pd

        size = next((s.min_requests for s in rollout.plan.stages if s.kind == "smoke"), 20)
        plan = rollout.plan
        if plan.sample is not None:
            try:
                frame = client.datasets.load(plan.sample)  # type: ignore[attr-defined]
            except NotFound:
                frame = None
            if frame is not None and len(frame):
                frame = frame.head(size)
                return frame.drop(columns=[plan.target], errors="ignore") if plan.target else frame
        rows = _newest_inputs(self.rollouts.predictions(scope), rollout.deployment, size)
        return pd.DataFrame(rows) if rows else None


def _newest_inputs(records: ArtifactStore, deployment: str, size: int) -> list[Any]:
    """The inputs of the deployment's newest ``size`` live answers: the last day's, and
    only on a quieter day every hour's since its first record."""
    from gnomon.monitoring.records import first_record_ms

    end = now_ms() + 1
    rows, _ = live_inputs(records, deployment, end - DAY_MS, end, size, labelled=False)
    if len(rows) < size:
        first = first_record_ms(records, deployment)
        if first is not None and first < end - DAY_MS:
            rows, _ = live_inputs(records, deployment, first, end, size, labelled=False)
    return rows


def change_risk(
    client: Client,
    model: str,
    candidate: int,
    serving: str,
    serving_version: int,
    label: str | None,
) -> dict[str, Any]:
    """The change's risk from the two versions' lineage, as stored; another model serving
    the deployment is a change of model: high."""
    if serving != model:
        reason = (
            f"the deployment serves another model ({serving}/{serving_version}): a change of model"
        )
        change = {"kind": "architecture", "level": "high", "reason": reason}
        return {"level": "high", "changes": [change]}
    from gnomon.automation.facts import assess

    try:
        return assess(client, model, candidate, serving_version, label=label).to_dict()
    except InvalidInput as exc:
        if label is None or exc.details.get("label") != label:
            raise
        # The training data lacks the label column: rows are compared alone.
        return assess(client, model, candidate, serving_version).to_dict()


__all__ = ["Loop", "change_risk"]
