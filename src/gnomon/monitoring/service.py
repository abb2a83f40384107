"""MonitorService: create monitors, run them window by window, keep their results and alerts.

A run takes the monitor's lease, evaluates every window that closed since its watermark
(at most ``MAX_WINDOWS_PER_RUN``), feeds each window's figures to the alert rules, and stores
results, watermark, rule states and events in one transaction; alerts are delivered after
that commit, and each delivery is recorded with its event.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope, now_ms
from gnomon.config import Settings
from gnomon.errors import InvalidInput, NotFound
from gnomon.logs.context import log_context
from gnomon.modelfolder.contract import ColumnSpec
from gnomon.monitoring.alert_rules import AlertRule, AlertState, Silence
from gnomon.monitoring.alerting import Alerting
from gnomon.monitoring.channel_specs import Channel
from gnomon.monitoring.entities import (
    Monitor,
    MonitorRun,
    MonitorSpec,
    WindowResult,
    check_limit,
    check_name,
    not_found,
)
from gnomon.monitoring.outliers import OutlierDetector
from gnomon.monitoring.records import Watched, first_record_ms, read_outcomes, read_records
from gnomon.monitoring.reference import (
    Primary,
    arrays,
    check_columns,
    kinds,
    primary_of,
    reference_table,
    sample,
)
from gnomon.monitoring.sql import SqlMonitorStore
from gnomon.monitoring.window import (
    BASELINE_SIZE,
    PREDICTION,
    Prepared,
    evaluate,
    prediction_values,
)
from gnomon.predictions.storage import predictions_store
from gnomon.progress import ProgressCallback

if TYPE_CHECKING:
    import pyarrow as pa

    from gnomon.artifacts.store import ArtifactStore
    from gnomon.data.service import DatasetService
    from gnomon.deployments.service import DeploymentService
    from gnomon.registry.registration import Registrar

logger = logging.getLogger("gnomon.monitoring")

MAX_WINDOWS_PER_RUN = 500
LEASE_S = 900.0
# Records reach storage a few seconds after their answer (the writers batch them): a time
# window is evaluated this long after it closes, so none of its records is still on the way.
GRACE_S = 30
MAX_RESULTS = 10_000


class MonitorService:
    """Monitors and their runs; ``alerting`` holds the rules, channels and silences.

    ``trusted``: embedded (the local user is the operator). A server's copy is not: it keeps
    deliveries out of its own network (unless ``GNOMON_ALERT_PRIVATE_WEBHOOKS``), refuses
    mail logins from clients, and hides a monitor from users who may not read its reference.
    """

    def __init__(
        self,
        store: SqlMonitorStore,
        deployments: DeploymentService,
        registrar: Registrar,
        datasets: DatasetService | None,
        settings: Settings,
        alerting: Alerting | None = None,
    ) -> None:
        self.store = store
        self.deployments = deployments
        self.registrar = registrar
        self.datasets = datasets
        # Runs read the reference approved when the monitor was created: a scheduled run has
        # no user whose dataset access could be checked again (the server's copy checks it
        # with ``datasets`` at creation, and on every read).
        self.reference_datasets = datasets
        self.settings = settings
        self.alerting = alerting or Alerting(store)
        self.restricted = False  # the server's copy: monitors follow their reference's access

    # -- monitors ---------------------------------------------------------------------------

    def create(self, scope: Scope, name: str, spec: MonitorSpec) -> Monitor:
        """Check the deployment, the columns and the reference, fit the outlier detector on
        the reference, and store the monitor.

        Raises:
            NotFound: an unknown deployment or dataset version.
            InvalidInput: a bad name; columns the contract or the reference lack.
            AlreadyExists: a monitor of that name.
        """
        check_name(name)
        primary = primary_of(scope, self.deployments, self.registrar, spec.deployment)
        specs = _columns(primary, spec)
        watched = tuple(Watched.of(s) for s in specs)
        table, described, records = reference_table(
            scope, spec, primary, self.datasets, self._predictions(scope), watched
        )
        check_columns(table, [s.name for s in specs], f"the reference {described}")
        self._drift_config(spec)  # refuse bad drift settings before storing them
        columns = arrays(sample(table), watched)
        numeric = {c.name: columns[c.name] for c in watched if c.numeric}
        detector = OutlierDetector.fit(numeric)
        state: dict[str, Any] = {
            "model": primary.model,
            "version": primary.version,
            "reference": described,
            "columns": [s.to_dict() for s in specs],
            "detector": None if detector is None else detector.to_dict(),
            "prediction_baseline": None if records is None else _baseline(records),
            "segment_edges": _segment_edges(columns, watched, spec.segment),
        }
        return self.store.create(scope, name, spec, state)

    def get(self, scope: Scope, name: str) -> Monitor:
        self._visible(scope, name)
        return self.store.get(scope, name)

    def state(self, scope: Scope, name: str) -> dict[str, Any]:
        return self._visible(scope, name)

    def list(self, scope: Scope) -> list[Monitor]:
        found = self.store.list(scope)
        if not self.restricted:
            return found
        return [m for m in found if self._readable(scope, self.store.state(scope, m.name))]

    def delete(self, scope: Scope, name: str) -> None:
        self._visible(scope, name)
        self.store.delete(scope, name)

    def _visible(self, scope: Scope, name: str) -> dict[str, Any]:
        """The monitor's state, if the caller may read its reference.

        Raises:
            NotFound: no such monitor, or (through a server) its reference is a dataset the
                caller may not read: the monitor's results describe that data.
        """
        state = self.store.state(scope, name)
        if self.restricted and not self._readable(scope, state):
            raise not_found("monitor", name)
        return state

    def _readable(self, scope: Scope, state: Mapping[str, Any]) -> bool:
        reference = state.get("reference", "")
        if self.datasets is None or reference.startswith("records:"):
            return True
        try:
            self.datasets.version(scope, reference)
        except NotFound:
            return False
        return True

    def results(
        self, scope: Scope, name: str, since_ms: int | None = None, limit: int = 1000
    ) -> list[WindowResult]:
        check_limit(limit, MAX_RESULTS)
        self._visible(scope, name)
        return self.store.results(scope, name, since_ms, limit)

    # -- running ----------------------------------------------------------------------------

    def run(
        self,
        scope: Scope,
        name: str,
        *,
        until_ms: int | None = None,
        owner: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> MonitorRun:
        """Evaluate every window of ``name`` that closed since its watermark, up to
        ``until_ms`` (default: now, less the outcome delay and the writers' grace).

        Returns a run with no windows, and ``skipped`` saying why, while another worker
        holds the monitor's lease.
        """
        owner = owner or _owner()
        self._visible(scope, name)
        monitor = self.store.get(scope, name)
        if not self.store.lease(scope, name, owner, LEASE_S):
            return MonitorRun(name, (), monitor.watermark_ms, "another worker is running it")
        try:
            return self._run(scope, monitor, owner, until_ms, on_progress or _ignore)
        finally:
            self.store.release(scope, name, owner)

    def run_due(self, owner: str | None = None) -> list[MonitorRun]:
        """Run every scheduled monitor that is due, in every workspace (``gnomon worker``)."""
        owner = owner or _owner()
        done = []
        for workspace, name in self.store.due(now_ms()):
            scope = Scope(workspace, "worker")
            # Each run is a step of its own in the logs, with its own request id.
            with log_context(workspace=workspace, object=f"monitors/{name}"):
                try:
                    run = self.run(scope, name, owner=owner)
                except Exception:  # one broken monitor must not stop the others
                    logger.exception("monitor %r of workspace %r failed", name, workspace)
                    self.store.ran(scope, name)  # tried: due again after its interval
                    continue
                done.append(run)
                said = run.skipped or f"{len(run.windows)} window(s) evaluated"
                logger.info("monitor %r ran: %s", name, said)
        return done

    def _run(
        self,
        scope: Scope,
        monitor: Monitor,
        owner: str,
        until_ms: int | None,
        progress: ProgressCallback,
    ) -> MonitorRun:
        spec = monitor.spec
        state = self.store.state(scope, monitor.name)
        store = self._predictions(scope)
        now = now_ms()
        until = now if until_ms is None else min(int(until_ms), now)
        if until_ms is None and spec.window_s is not None:
            until -= (spec.outcome_delay_s + GRACE_S) * 1000
        prepared = self._prepare(scope, monitor, state)

        def advanced(done: int, total: int | None) -> None:
            if done:  # a long run keeps its lease: renewed after each window
                self.store.lease(scope, monitor.name, owner, LEASE_S)
            progress(done, total)

        evaluate_windows = self._time_windows if spec.window_s is not None else self._count_windows
        windows, watermark = evaluate_windows(monitor, store, prepared, state, until, advanced)
        rules, states, flagged = self.alerting.evaluate(scope, monitor, windows, now)
        ids = self.store.save_run(
            scope,
            monitor,
            owner,
            windows,
            watermark,
            state,
            {name: s.to_dict() for name, s in states.items()},
            [(e.to_dict(), quiet) for e, quiet in flagged],
        )
        stored = [(i, e, quiet) for i, (e, quiet) in zip(ids, flagged, strict=True)]
        self.alerting.send(scope, rules, stored)
        return MonitorRun(monitor.name, tuple(windows), watermark)

    def _prepare(self, scope: Scope, monitor: Monitor, state: dict[str, Any]) -> Prepared:
        from gnomon.monitoring.drift import Reference

        spec = monitor.spec
        specs = tuple(ColumnSpec.from_dict(c) for c in state["columns"])
        watched = tuple(Watched.of(s) for s in specs)
        primary = Primary(state["model"], state["version"], specs, None, None)
        if spec.reference.kind == "training":  # the version it was made for, not a newer one
            spec = replace(spec, reference=replace(spec.reference, kind="dataset",
                                                   dataset=state["reference"]))  # fmt: skip
        table, _, _ = reference_table(
            scope, spec, primary, self.reference_datasets, self._predictions(scope), watched
        )
        check_columns(table, [s.name for s in specs], f"the reference {state['reference']}")
        reference = Reference.from_columns(arrays(sample(table), watched), kinds(watched))
        baseline = state.get("prediction_baseline")
        predictions = _prediction_reference(baseline) if baseline else None
        numeric = baseline["numeric"] if baseline else True
        detector = state.get("detector")
        return Prepared(
            specs=specs,
            watched=watched,
            reference=reference,
            config=self._drift_config(spec),
            detector=None if not detector else OutlierDetector.from_dict(detector),
            predictions=predictions,
            prediction_numeric=numeric,
            segment=spec.segment,
            task=spec.task,
            segment_edges=tuple(state.get("segment_edges") or ()),
        )

    def _time_windows(
        self,
        monitor: Monitor,
        store: ArtifactStore,
        prepared: Prepared,
        state: dict[str, Any],
        until: int,
        progress: ProgressCallback,
    ) -> tuple[list[WindowResult], int | None]:
        spec = monitor.spec
        assert spec.window_s is not None
        width = spec.window_s * 1000
        start = monitor.watermark_ms
        if start is None:
            first = first_record_ms(store, spec.deployment)
            if first is None:
                return [], None
            first = max(first, spec.start_ms or 0)
            start = first - first % width
        if start + width > until:
            return [], monitor.watermark_ms
        outcomes = read_outcomes(store, spec.deployment, start, now_ms() + 1)
        results = []
        total = min((until - start) // width, MAX_WINDOWS_PER_RUN)
        progress(0, total)
        while start + width <= until and len(results) < MAX_WINDOWS_PER_RUN:
            table = read_records(
                store, spec.deployment, start, start + width, prepared.watched, ordered=False
            )
            prepared = self._with_baseline(prepared, state, table)
            results.append(evaluate(prepared, monitor.name, start, start + width, table, outcomes))
            progress(len(results), total)
            start += width
        return results, start

    def _count_windows(
        self,
        monitor: Monitor,
        store: ArtifactStore,
        prepared: Prepared,
        state: dict[str, Any],
        until: int,
        progress: ProgressCallback,
    ) -> tuple[list[WindowResult], int | None]:
        import pyarrow as pa

        spec = monitor.spec
        size = spec.window_rows
        assert size is not None
        start = monitor.watermark_ms
        if start is None:
            start = first_record_ms(store, spec.deployment)
            if start is None:
                return [], None
            start = max(start, spec.start_ms or 0)
        outcomes = read_outcomes(store, spec.deployment, start, now_ms() + 1)
        results: list[WindowResult] = []
        pending: list[pa.Table] = []
        held = 0
        hour = start - start % 3_600_000
        watermark = start
        while hour < until and len(results) < MAX_WINDOWS_PER_RUN:
            upto = min(hour + 3_600_000, until)
            chunk = read_records(store, spec.deployment, max(hour, start), upto, prepared.watched)
            hour += 3_600_000
            if chunk.num_rows:
                pending.append(chunk)
                held += chunk.num_rows
            while held >= size and len(results) < MAX_WINDOWS_PER_RUN:
                rows = pa.concat_tables(pending)
                cut = _tied_end(rows, size)
                window, rest = rows.slice(0, cut), rows.slice(cut)
                times = window.column("time_ms")
                first, last = times[0].as_py(), times[-1].as_py()
                prepared = self._with_baseline(prepared, state, window)
                results.append(evaluate(prepared, monitor.name, first, last + 1, window, outcomes))
                progress(len(results), None)
                watermark = last + 1
                pending, held = ([rest] if rest.num_rows else []), rest.num_rows
        return results, watermark

    def _with_baseline(
        self, prepared: Prepared, state: dict[str, Any], table: pa.Table
    ) -> Prepared:
        """Without a prediction baseline yet, the first window with predictions becomes it
        (stored in ``state``): later windows' prediction drift is measured against it."""
        if prepared.predictions is not None or table.num_rows == 0:
            return prepared
        baseline = _baseline(table)
        if baseline is None:
            return prepared
        state["prediction_baseline"] = baseline
        return replace(
            prepared,
            predictions=_prediction_reference(baseline),
            prediction_numeric=baseline["numeric"],
        )

    def _drift_config(self, spec: MonitorSpec) -> Any:
        from gnomon.monitoring.drift import DriftConfig

        try:
            return DriftConfig.from_dict(spec.drift)
        except InvalidInput as exc:
            raise InvalidInput(f"drift settings: {exc.message}", exc.details) from None

    def _predictions(self, scope: Scope) -> ArtifactStore:
        settings = self.settings
        return predictions_store(settings.artifact_root, scope.workspace, settings.s3_endpoint_url)

    # -- alerts (see alerting.py) ------------------------------------------------------------

    def set_rule(self, scope: Scope, rule: AlertRule) -> AlertRule:
        self._visible(scope, rule.monitor)
        return self.alerting.set_rule(scope, rule)

    def rules(self, scope: Scope, monitor: str) -> list[tuple[AlertRule, AlertState]]:
        self._visible(scope, monitor)
        return self.alerting.rules(scope, monitor)

    def delete_rule(self, scope: Scope, monitor: str, name: str) -> None:
        self._visible(scope, monitor)
        self.alerting.delete_rule(scope, monitor, name)

    def events(self, scope: Scope, monitor: str, limit: int = 100) -> list[dict[str, Any]]:
        self._visible(scope, monitor)
        return self.alerting.events(scope, monitor, limit)

    def set_channel(self, scope: Scope, spec: Mapping[str, Any]) -> Channel:
        return self.alerting.set_channel(scope, spec)

    def channels(self, scope: Scope) -> list[Channel]:
        return self.alerting.channels(scope)

    def delete_channel(self, scope: Scope, name: str) -> None:
        self.alerting.delete_channel(scope, name)

    def silence(self, scope: Scope, silence: Silence) -> str:
        return self.alerting.silence(scope, silence)

    def silences(self, scope: Scope, active_only: bool = True) -> list[dict[str, Any]]:
        return self.alerting.silences(scope, active_only)

    def delete_silence(self, scope: Scope, silence_id: str) -> None:
        self.alerting.delete_silence(scope, silence_id)


def _columns(primary: Primary, spec: MonitorSpec) -> tuple[ColumnSpec, ...]:
    """The contract columns the monitor watches (all of them unless ``spec.columns`` says).

    Raises:
        InvalidInput: a named column, or the segment, is not an input of the model.
    """
    by_name = {c.name: c for c in primary.columns}
    if not by_name:
        raise InvalidInput(
            f"model {primary.model!r} version {primary.version} has no input contract: log it "
            "with an input example or training_data so the monitor knows its columns",
            {"model": primary.model},
        )
    wanted = list(spec.columns) or list(by_name)
    missing = [c for c in wanted + ([spec.segment] if spec.segment else []) if c not in by_name]
    if missing:
        raise InvalidInput(
            f"model {primary.model!r} version {primary.version} has no input column "
            + ", ".join(repr(c) for c in missing[:10]),
            {"missing": missing[:100]},
        )
    if spec.segment and spec.segment not in wanted:
        wanted.append(spec.segment)
    return tuple(by_name[c] for c in wanted)


def _baseline(table: pa.Table) -> dict[str, Any] | None:
    """Up to ``BASELINE_SIZE`` of the records' predictions: numbers, else labels."""
    if "prediction" not in table.column_names or table.num_rows == 0:
        return None
    sampled = sample(table, BASELINE_SIZE)
    numbers = prediction_values(sampled, True)
    import numpy as np

    if not np.isnan(numbers).all():
        return {"numeric": True, "values": [float(v) for v in numbers[~np.isnan(numbers)]]}
    labels = [v for v in prediction_values(sampled, False).tolist() if v is not None]
    return {"numeric": False, "values": labels} if labels else None


def _prediction_reference(baseline: Mapping[str, Any]) -> Any:
    """The stored prediction baseline (numbers or labels) as a drift reference."""
    import numpy as np

    from gnomon.monitoring.drift import Reference

    numeric = baseline["numeric"]
    values = np.array(baseline["values"], dtype=float if numeric else object)
    kind = "numeric" if numeric else "categorical"
    return Reference.from_columns({PREDICTION: values}, {PREDICTION: kind})


def _segment_edges(
    columns: Mapping[str, Any], watched: Sequence[Watched], segment: str | None
) -> list[float] | None:
    """A numeric segment column's quartiles in the reference: its values fall in four bands
    (fewer where quartiles coincide), each scored as a segment."""
    import numpy as np

    column = next((c for c in watched if c.name == segment), None)
    if column is None or not column.numeric:
        return None
    values = columns[column.name]
    values = values[~np.isnan(values)]
    if values.size == 0:
        return None
    return sorted({float(v) for v in np.quantile(values, [0.25, 0.5, 0.75])})


def _tied_end(rows: pa.Table, size: int) -> int:
    """``size``, extended over records answered in the same millisecond as the last one,
    so the watermark (a time) never splits a millisecond between two windows."""
    times = rows.column("time_ms")
    last = times[size - 1].as_py()
    cut = size
    while cut < rows.num_rows and times[cut].as_py() == last:
        cut += 1
    return cut


def _ignore(done: int, total: int | None) -> None:
    pass


def _owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


__all__ = ["MonitorService"]
