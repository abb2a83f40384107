"""The model server: one loaded model behind /predict, /invocations, /schema and the probes.

Starlette rather than FastAPI: the predict path is the hot path (see bench W3), and its input
is validated by the model's contract, not by a request schema.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import orjson
import pandas as pd
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gnomon.deployments.outcomes import check_outcomes
from gnomon.deployments.schemas import MAX_OUTCOMES_PER_REQUEST
from gnomon.errors import GnomonError, InvalidInput, Unavailable
from gnomon.modelfolder import Contract
from gnomon.server.boundary import ErrorBoundary
from gnomon.server.middleware import HttpMetrics, ObservabilityMiddleware
from gnomon.server.prometheus import exposition
from gnomon.serving.batching import Batcher
from gnomon.serving.drain import Drain
from gnomon.serving.enforce import Policy, Violation, enforce, raise_for
from gnomon.serving.errors import answer_unexpected, error_response, not_allowed, not_found
from gnomon.serving.inputs import load_json, parse_body, parse_invocations
from gnomon.serving.limits import BodyLimits, body_limit
from gnomon.serving.records import Outcome, OutcomeWriter, RecordWriter
from gnomon.serving.routing import RouteTable, ServedArm, ServedModel, single_table
from gnomon.serving.shadow import ShadowRunner

logger = logging.getLogger("gnomon.serving")
UNKNOWN_COLUMN = "<unknown>"  # the violations metric's label for every column not in a contract
_RETIRE_AFTER_S = 30.0  # a replaced arm's batcher outlives the swap by this long

__all__ = ["Routes", "ServedModel", "create_routed_app", "create_serving_app"]


class _Metrics(HttpMetrics):
    """The API server's HTTP metrics, and the model server's own."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry)
        self.predictions = Counter(
            "gnomon_predictions_total",
            "Rows predicted",
            ["model", "version", "role"],
            registry=registry,
        )
        self.shadow_dropped = Counter(
            "gnomon_shadow_dropped_total",
            "Shadow copies dropped because the shadow fell behind",
            registry=registry,
        )
        self.reloads = Counter(
            "gnomon_route_reloads_total",
            "Route table reloads after a deployment changed, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.errors = Counter(
            "gnomon_prediction_errors_total", "Failed predict calls", ["kind"], registry=registry
        )
        self.violations = Counter(
            "gnomon_contract_violations_total",
            f"Contract violations in requests (columns the contract lacks: {UNKNOWN_COLUMN})",
            ["column", "problem"],
            registry=registry,
        )
        self.records_dropped = Counter(
            "gnomon_records_dropped_total",
            "Prediction records dropped: the writer fell behind or could not write them",
            registry=registry,
        )
        self.outcomes_dropped = Counter(
            "gnomon_outcomes_dropped_total",
            "Accepted outcomes dropped because they could not be built into a file",
            registry=registry,
        )


def create_serving_app(
    served: ServedModel,
    records: RecordWriter | None = None,
    outcomes: OutcomeWriter | None = None,
    limits: BodyLimits | None = None,
) -> Starlette:
    """An ASGI app answering with one model; ``records`` receives every prediction and
    ``outcomes`` the ground truth clients post later (joined by request id)."""
    return create_routed_app(Routes(single_table(served)), records, outcomes, limits)


class Routes:
    """The server's current route table, and how to refresh it (deployment mode)."""

    def __init__(
        self,
        table: RouteTable,
        reload: Callable[[RouteTable], RouteTable | None] | None = None,
        interval: float = 2.0,
    ) -> None:
        self.table = table
        self.reload = reload  # returns a new table, or None when nothing changed
        self.interval = interval

    async def watch(self, metrics: _Metrics) -> None:
        """Poll for changes; a failed reload keeps the old table and is retried next time."""
        assert self.reload is not None
        while True:
            await asyncio.sleep(self.interval)
            try:
                table = await run_in_threadpool(self.reload, self.table)
            except Exception:
                metrics.reloads.labels("error").inc()
                logger.exception("could not reload deployment %r", self.table.deployment)
                continue
            if table is None:
                continue
            old, self.table = self.table, table
            metrics.reloads.labels("ok").inc()
            logger.warning(
                "deployment %r: now serving revision %s", table.deployment, table.revision
            )
            kept = {id(arm.batcher) for arm in table.arms}
            retired = [a.batcher for a in old.arms if a.batcher and id(a.batcher) not in kept]
            if retired:  # requests routed before the swap finish on them first
                asyncio.get_running_loop().create_task(_close_later(retired))


async def _close_later(batchers: list[Batcher]) -> None:
    await asyncio.sleep(_RETIRE_AFTER_S)
    for batcher in batchers:
        await batcher.close()


def create_routed_app(
    routes: Routes,
    records: RecordWriter | None = None,
    outcomes: OutcomeWriter | None = None,
    limits: BodyLimits | None = None,
) -> Starlette:
    """An ASGI app answering with the arms of ``routes``: one model, or a deployment's
    primary, canary or A/B arm, with shadows answering copies on the side. ``limits`` bound
    each route's request body (default: :class:`~gnomon.serving.limits.BodyLimits`)."""
    limits = limits or BodyLimits()
    metrics = _Metrics(CollectorRegistry())
    shadows = ShadowRunner()
    drain = Drain()

    async def predict_with(request: Request, parse: Any) -> Response:
        started = time.perf_counter()
        table = routes.table  # one snapshot for the whole request
        body = await request.body()  # bounded by the body_limit middleware
        large = len(body) > limits.inline_bytes
        if not large:  # the hot path: one-row requests pay no thread hop
            arm, raw, frame, violations = _prepare(table, body, request.headers, parse, metrics)
        else:  # megabytes take long enough to parse and check to hold up every other request
            prepare = functools.partial(_prepare, table, body, request.headers, parse, metrics)
            arm, raw, frame, violations = await run_in_threadpool(prepare)
        predictions = await _predict(arm, frame, metrics, large)
        values = predictions.tolist() if isinstance(predictions, np.ndarray) else list(predictions)
        request_id = request.scope["state"]["request_id"]
        latency_ms = (time.perf_counter() - started) * 1000
        metrics.predictions.labels(arm.name, arm.version_label, arm.role).inc(len(values))
        if records is not None:
            _record(records, request_id, table, arm, frame, values, latency_ms, violations)
        for shadow in table.shadows:
            work = functools.partial(_shadow, table, shadow, raw, request_id, records, metrics)
            if not shadows.submit(work):
                metrics.shadow_dropped.inc()
        payload = {
            "predictions": values,
            "model": arm.name,
            "model_version": arm.version,
            "request_id": request_id,
        }
        headers = {"x-model-version": arm.version_label, "x-model-name": arm.name}
        return Response(
            orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY),
            200,
            headers,
            "application/json",
        )

    async def predict(request: Request) -> Response:
        return await predict_with(request, parse_body)

    async def invocations(request: Request) -> Response:
        return await predict_with(request, parse_invocations)

    async def post_outcomes(request: Request) -> Response:
        if outcomes is None:
            raise InvalidInput("this server does not record outcomes (started with --no-records)")
        body = await request.body()  # bounded by the body_limit middleware
        deployment = routes.table.deployment
        if len(body) <= limits.inline_bytes:
            items = _parse_outcomes(body, deployment)
        else:
            items = await run_in_threadpool(_parse_outcomes, body, deployment)
        # All of them fit in the writer's queue, or none is taken (503 with Retry-After):
        # what is acknowledged here is never dropped to make room for later ones.
        outcomes.submit(items)
        return JSONResponse({"accepted": len(items)}, status_code=202)

    async def schema(request: Request) -> Response:
        table = routes.table
        primary = table.primary
        contract = primary.model.contract
        body = {
            "model": primary.name,
            "version": primary.version,
            "uri": primary.uri,
            "flavor": primary.model.flavor,
            "policy": table.policy.value,
            "deployment": table.deployment,
            "revision": table.revision,
            "ab_key": table.ab_key,
            "arms": [
                {
                    "role": arm.role,
                    "model": arm.name,
                    "version": arm.version,
                    "weight": arm.weight,
                    "batched": arm.batcher is not None,
                }
                for arm in table.arms
            ],
            "contract": contract.to_dict() if contract is not None else None,
        }
        return JSONResponse(body)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        primary = routes.table.primary
        return JSONResponse({"status": "ready", "model": primary.name, "version": primary.version})

    async def prometheus(request: Request) -> Response:
        body = exposition(metrics.registry)  # with several workers: all of them, summed
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        drain.install()
        watcher = None
        if routes.reload is not None:
            watcher = asyncio.get_running_loop().create_task(routes.watch(metrics))
        yield
        if watcher is not None:
            watcher.cancel()
        for arm in routes.table.arms:
            if arm.batcher is not None:
                await arm.batcher.close()
        await run_in_threadpool(shadows.close)  # queued shadows still get recorded
        for writer in (records, outcomes):
            if writer is not None:
                writer.close()  # graceful shutdown writes everything queued

    app = Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/invocations", invocations, methods=["POST"]),
            Route("/outcomes", post_outcomes, methods=["POST"]),
            Route("/schema", schema),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", prometheus),
        ],
        # Starlette re-raises whatever reaches its catch-all Exception handler, and uvicorn
        # then drops the client's keep-alive connection: GnomonError gets its own handler, and
        # ErrorBoundary answers the rest inside the app. The catch-all only sees failures of
        # the middleware around it.
        exception_handlers={
            GnomonError: error_response,
            Exception: error_response,
            404: not_found,
            405: not_allowed,
        },
        lifespan=lifespan,
    )
    app.add_middleware(body_limit, limits=limits, respond=error_response)
    app.add_middleware(
        ErrorBoundary, answer=answer_unexpected
    )  # inside ObservabilityMiddleware: the answer gets its id
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    app.add_middleware(drain.middleware)
    app.state.routes = routes
    app.state.records = records
    if records is not None:
        records.on_drop = metrics.records_dropped.inc
    if outcomes is not None:
        outcomes.on_drop = metrics.outcomes_dropped.inc
    return app


def _prepare(
    table: RouteTable, body: bytes, headers: Any, parse: Any, metrics: _Metrics
) -> tuple[ServedArm, pd.DataFrame, pd.DataFrame, list[Violation]]:
    """Read a body, pick its arm and check it against that arm's contract: the arm, the frame
    as read, the frame the model gets and the violations (raised under reject and clip)."""
    contract = table.primary.model.contract
    names = contract.input_names if contract is not None else None  # order of array bodies
    raw = parse(body, headers.get("content-type"), names, max_columns=table.max_columns)
    arm = table.pick(headers, raw)
    contract = arm.model.contract
    frame = raw
    violations: list[Violation] = []
    if contract is not None:
        frame, violations = enforce(_without_key(raw, table, contract), contract, table.policy)
        _count(metrics, violations)
        if violations and table.policy is not Policy.WARN:
            raise_for(violations)
    return arm, raw, frame, violations


def _without_key(frame: pd.DataFrame, table: RouteTable, contract: Contract) -> pd.DataFrame:
    """The A/B key is a routing field, not a model input, unless the contract lists it."""
    key = table.ab_key
    if key is None or key not in frame.columns or key in contract.input_names:
        return frame
    return frame.drop(columns=[key])


def _shadow(
    table: RouteTable,
    arm: ServedArm,
    raw: pd.DataFrame,
    request_id: str,
    records: RecordWriter | None,
    metrics: _Metrics,
) -> None:
    """Answer a copy of a request with a shadow arm (on the shadow thread) and record it."""
    started = time.perf_counter()
    contract = arm.model.contract
    frame = raw
    violations: list[Violation] = []
    values: list[Any] | None = None
    if contract is not None:
        frame, violations = enforce(_without_key(raw, table, contract), contract, table.policy)
    if not violations or table.policy is Policy.WARN:
        try:
            result = arm.model.predict(frame)
        except Exception:
            metrics.errors.labels("shadow").inc()
            logger.exception("shadow %s/%s failed to predict", arm.name, arm.version)
        else:
            values = result.tolist() if isinstance(result, np.ndarray) else list(result)
            metrics.predictions.labels(arm.name, arm.version_label, arm.role).inc(len(values))
    if records is not None:
        answered = values if values is not None else [None] * len(frame)
        latency_ms = (time.perf_counter() - started) * 1000
        _record(records, request_id, table, arm, frame, answered, latency_ms, violations)


def _record(
    records: RecordWriter,
    request_id: str,
    table: RouteTable,
    arm: ServedArm,
    frame: pd.DataFrame,
    values: list[Any],
    latency_ms: float,
    violations: list[Violation],
) -> None:
    """One append; the rows are built on the writer thread."""
    records.submit_request(
        request_id,
        int(time.time() * 1000),
        table.deployment,
        arm.name,
        arm.version,
        arm.role,
        frame,
        values,
        latency_ms,
        [_violation_dict(v) for v in violations] or None,
    )


async def _predict(arm: ServedArm, frame: pd.DataFrame, metrics: _Metrics, large: bool) -> Any:
    try:
        return await arm.predict(frame, offload=large)
    except GnomonError:
        metrics.errors.labels("input").inc()
        raise
    except (ValueError, TypeError) as exc:  # the model refused these values
        metrics.errors.labels("input").inc()
        raise InvalidInput(f"the model could not predict on this input: {exc}") from exc
    except Exception as exc:
        metrics.errors.labels("model").inc()
        logger.exception("predict failed")
        raise Unavailable(f"the model failed to predict ({type(exc).__name__})") from exc


def _count(metrics: _Metrics, violations: list[Violation]) -> None:
    # Labels only ever take the contract's column names: a column the contract lacks is named
    # by the client, and each new name would be a new series kept for the process's life.
    counts: dict[tuple[str, str], int] = {}
    for violation in violations:
        column = UNKNOWN_COLUMN if violation.problem == "unknown_column" else violation.column
        key = (column, violation.problem)
        counts[key] = counts.get(key, 0) + 1
    for (column, problem), count in counts.items():
        metrics.violations.labels(column, problem).inc(count)


def _parse_outcomes(body: bytes, deployment: str) -> list[Outcome]:
    """``{"request_id": …, "value": …}`` or ``{"outcomes": [that, …]}``, checked as the API
    server checks ``POST /api/v1/deployments/{name}/outcomes`` (and as many per request)."""
    data = load_json(body)
    items = data.get("outcomes", [data]) if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidInput('expected {"request_id": ..., "value": ...} or {"outcomes": [...]}')
    pairs = check_outcomes(items, MAX_OUTCOMES_PER_REQUEST)
    now = int(time.time() * 1000)
    return [Outcome(request_id, now, deployment, value) for request_id, value in pairs]


def _violation_dict(violation: Violation) -> dict[str, Any]:
    return {
        "row": violation.row,
        "column": violation.column,
        "problem": violation.problem,
        "expected": violation.expected,
    }
