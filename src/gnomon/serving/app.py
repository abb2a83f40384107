"""The model server: the arms of a route table behind /predict, /invocations, /outcomes,
/schema, the probes and /metrics; /invocations, /ping, /health and /version speak MLflow's
scoring protocol (as ``mlflow models serve`` does), so MLflow's clients work unchanged.

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

import pandas as pd
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gnomon._version import __version__
from gnomon.errors import GnomonError, InvalidInput, Unavailable
from gnomon.logs.context import note
from gnomon.predictions.entities import Outcome
from gnomon.predictions.outcomes import MAX_OUTCOMES_PER_REQUEST, check_outcomes
from gnomon.predictions.records import OutcomeWriter, RecordWriter
from gnomon.serving.answering import Checked, answered, check
from gnomon.serving.drain import Drain
from gnomon.serving.enforce import raise_for
from gnomon.serving.enrich import Enrich
from gnomon.serving.errors import (
    ParamsRefused,
    answer_error,
    answer_unexpected,
    not_allowed,
    not_found,
)
from gnomon.serving.inputs import (
    Invocation,
    invocation_media,
    load_json,
    parse_body,
    parse_invocation,
)
from gnomon.serving.limits import BodyLimits, body_limit
from gnomon.serving.metrics import ServingMetrics
from gnomon.serving.outputs import dumps, mlflow_answer, per_row, predict_answer, recorded
from gnomon.serving.params import takes_params
from gnomon.serving.reloading import Routes
from gnomon.serving.routing import RouteTable, ServedArm, ServedModel, single_table
from gnomon.serving.shadow import ShadowCopy, ShadowRunner, answer_copy
from gnomon.web.boundary import ErrorBoundary
from gnomon.web.middleware import ObservabilityMiddleware
from gnomon.web.prometheus import exposition

logger = logging.getLogger("gnomon.serving")


class ModelServer:
    """The model server's endpoints over its state: the routes it answers with, where its
    prediction records and outcomes go, and its body limits.

    Args:
        routes: one model, or a deployment's primary, canary or A/B arm, with shadows
            answering copies on the side.
        records: receives every prediction (None: nothing is recorded).
        outcomes: receives the ground truth clients post later, joined by request id (None:
            ``POST /outcomes`` is refused).
        enrich: adds columns to each request before its check (the online features of the
            entities it names; see ``enrich.py``).
        limits: each route's request body bound (default: :class:`BodyLimits`).
    """

    def __init__(
        self,
        routes: Routes,
        records: RecordWriter | None = None,
        outcomes: OutcomeWriter | None = None,
        limits: BodyLimits | None = None,
        enrich: Enrich | None = None,
    ) -> None:
        self.routes = routes
        self.enrich = enrich
        self.records = records
        self.outcomes = outcomes
        self.limits = limits or BodyLimits()
        self.metrics = ServingMetrics(CollectorRegistry())
        answer = functools.partial(answer_copy, metrics=self.metrics, records=records)
        self.shadows = ShadowRunner(answer)
        self.drain = Drain()
        if records is not None:
            records.on_drop = self.metrics.records_dropped.inc
        if outcomes is not None:
            outcomes.on_drop = self.metrics.outcomes_dropped.inc
        if enrich is not None and hasattr(enrich, "observe"):
            enrich.observe = self.metrics.observe_features

    def app(self) -> Starlette:
        """The ASGI app answering with these endpoints."""
        app = Starlette(
            routes=[
                Route("/predict", self.predict, methods=["POST"]),
                Route("/invocations", self.invocations, methods=["POST"]),
                Route("/outcomes", self.post_outcomes, methods=["POST"]),
                Route("/schema", self.schema),
                Route("/healthz", self.healthz),
                Route("/readyz", self.readyz),
                Route("/ping", self.ping),
                Route("/health", self.ping),
                Route("/version", self.version),
                Route("/metrics", self.prometheus),
            ],
            # Starlette re-raises whatever reaches its catch-all Exception handler, and uvicorn
            # then drops the client's keep-alive connection: GnomonError gets its own handler,
            # and ErrorBoundary answers the rest inside the app. The catch-all only sees
            # failures of the middleware around it.
            exception_handlers={
                GnomonError: answer_error,
                Exception: answer_error,
                404: not_found,
                405: not_allowed,
            },
            lifespan=self.lifespan,
        )
        app.add_middleware(body_limit, limits=self.limits, respond=answer_error)
        # Inside ObservabilityMiddleware: the answer gets its request id.
        app.add_middleware(ErrorBoundary, answer=answer_unexpected)
        workspace = self.routes.table.workspace_id  # every request's log lines carry it
        app.add_middleware(ObservabilityMiddleware, metrics=self.metrics, workspace=workspace)
        app.add_middleware(self.drain.middleware)
        app.state.server = self
        return app

    # -- endpoints ----------------------------------------------------------------------------

    async def predict(self, request: Request) -> Response:
        return await self._serve(request, _parse_predict, predict_answer)

    async def invocations(self, request: Request) -> Response:
        invocation_media(request.headers.get("content-type"))  # a 415 before the body is read
        return await self._serve(request, parse_invocation, mlflow_answer)

    async def post_outcomes(self, request: Request) -> Response:
        if self.outcomes is None:
            raise InvalidInput("this server does not record outcomes (started with --no-records)")
        body = await request.body()  # bounded by the body_limit middleware
        deployment = self.routes.table.deployment
        if len(body) <= self.limits.inline_bytes:
            items = _parse_outcomes(body, deployment)
        else:
            items = await run_in_threadpool(_parse_outcomes, body, deployment)
        # All of them fit in the writer's queue, or none is taken (503 with Retry-After):
        # what is acknowledged here is never dropped to make room for later ones.
        self.outcomes.submit(items)
        return JSONResponse({"accepted": len(items)}, status_code=202)

    async def schema(self, request: Request) -> Response:
        return JSONResponse(_schema(self.routes.table))

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        primary = self.routes.table.primary
        return JSONResponse({"status": "ready", "model": primary.name, "version": primary.version})

    async def ping(self, request: Request) -> Response:
        # MLflow's /ping and /health: 200 with a bare newline once the model is loaded (here,
        # always: a worker answers nothing before its models are loaded).
        return Response("\n", media_type="application/json")

    async def version(self, request: Request) -> Response:
        # As MLflow's /version: the bare version string (MLflow's own labels it JSON too).
        return Response(__version__, media_type="application/json")

    async def prometheus(self, request: Request) -> Response:
        body = exposition(self.metrics.registry)  # with several workers: all of them, summed
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.drain.install()
        watcher = None
        if self.routes.reload is not None:
            watcher = asyncio.get_running_loop().create_task(self.routes.watch(self.metrics))
        yield
        if watcher is not None:
            watcher.cancel()
        for arm in self.routes.table.arms:
            if arm.batcher is not None:
                await arm.batcher.close()
        await run_in_threadpool(self.shadows.close)  # queued shadows still get recorded
        for writer in (self.records, self.outcomes):
            if writer is not None:
                writer.close()  # graceful shutdown writes everything queued

    # -- the predict path ---------------------------------------------------------------------

    async def _serve(self, request: Request, parse: Parse, shape: Shape) -> Response:
        started = time.perf_counter()
        table = self.routes.table  # one snapshot for the whole request
        body = await request.body()  # bounded by the body_limit middleware
        large = len(body) > self.limits.inline_bytes
        # the hot path: one-row requests pay no thread hop, unless enriching reads the online
        # store (blocking I/O, which would hold up every request on the event loop)
        if not large and self.enrich is None:
            arm, read, checked = self._prepare(table, body, request.headers, parse)
        else:  # megabytes take long enough to parse and check to hold up every other request
            prepare = functools.partial(self._prepare, table, body, request.headers, parse)
            arm, read, checked = await run_in_threadpool(prepare)
        predicting = time.perf_counter()
        request_id = request.scope["state"]["request_id"]
        try:
            answer = await self._predict(arm, checked.frame, large, read.params)
        except Exception:
            # Recorded without an answer, as a failed shadow is: a rollout counts the
            # candidate's failures from the records.
            if self.records is not None:
                empty = [None] * len(checked.frame)
                failed = answered(request_id, table, arm, checked, empty, started)
                self.records.submit_request(failed)
            raise
        took = time.perf_counter() - predicting
        rows = len(checked.frame)
        values = per_row(answer, rows)
        self.metrics.predictions.labels(arm.name, arm.version_label, arm.role).inc(rows)
        self.metrics.prediction_seconds.labels(arm.name, arm.version_label, arm.role).observe(took)
        if self.records is not None:
            kept = recorded(answer, values, rows)
            self.records.submit_request(answered(request_id, table, arm, checked, kept, started))
        for shadow in table.shadows:
            copy = ShadowCopy(table, shadow, read.frame, request_id, read.params)
            if not self.shadows.submit(copy):
                self.metrics.shadow_dropped.inc()
        return _predictions(arm, shape(answer, values), request_id)

    def _prepare(
        self, table: RouteTable, body: bytes, headers: Headers, parse: Parse
    ) -> tuple[ServedArm, Invocation, Checked]:
        """Read a body, pick its arm and check it against that arm's contract: the arm, the
        request as read (for shadows) and the checked rows (raised when the policy refuses)."""
        contract = table.primary.model.contract
        names = contract.input_names if contract is not None else None  # order of array bodies
        read = parse(body, headers.get("content-type"), names, max_columns=table.max_columns)
        if self.enrich is not None:  # entity keys in, the feature service's values added
            read = read._replace(frame=self.enrich(read.frame, names))
        arm = table.pick(headers, read.frame)
        note(object=f"models/{arm.name}/{arm.version_label}")  # its log lines name the arm
        if read.params is not None and not takes_params(arm.model):
            raise _params_refused(arm, read.params)
        checked = check(table, arm, read.frame)
        self.metrics.count_violations(checked.violations)
        if checked.refused:
            raise_for(checked.violations)
        return arm, read, checked

    async def _predict(
        self, arm: ServedArm, frame: pd.DataFrame, large: bool, params: dict[str, Any] | None
    ) -> Any:
        try:
            return await arm.predict(frame, offload=large, params=params)
        except GnomonError:
            self.metrics.errors.labels("input").inc()
            raise
        except (ValueError, TypeError) as exc:  # the model refused these values
            self.metrics.errors.labels("input").inc()
            raise InvalidInput(f"the model could not predict on this input: {exc}") from exc
        except Exception as exc:
            self.metrics.errors.labels("model").inc()
            logger.exception("predict failed")
            raise Unavailable(f"the model failed to predict ({type(exc).__name__})") from exc


def create_serving_app(
    served: ServedModel,
    records: RecordWriter | None = None,
    outcomes: OutcomeWriter | None = None,
    limits: BodyLimits | None = None,
) -> Starlette:
    """An ASGI app answering with one model; ``records`` receives every prediction and
    ``outcomes`` the ground truth clients post later (joined by request id)."""
    return ModelServer(Routes(single_table(served)), records, outcomes, limits).app()


Parse = Callable[..., Invocation]  # (body, content type, input names, max_columns=…)
Shape = Callable[[Any, list[Any] | None], Any]  # (answer, values per row) → "predictions"


def _parse_predict(
    body: bytes, content_type: str | None, names: list[str] | None, max_columns: int
) -> Invocation:
    """A ``/predict`` body: rows, never params."""
    return Invocation(parse_body(body, content_type, names, max_columns=max_columns), None)


def _params_refused(arm: ServedArm, params: dict[str, Any]) -> ParamsRefused:
    names = sorted(params)[:10]
    return ParamsRefused(
        f"model {arm.name!r} version {arm.version_label} takes no inference params (its "
        f"predict has no 'params' argument), but the request sends params {names}: "
        "send the inputs alone",
        {"params": names, "model": arm.name},
    )


def _predictions(arm: ServedArm, predictions: Any, request_id: str) -> Response:
    payload = {
        "predictions": predictions,
        "model": arm.name,
        "model_version": arm.version,
        "request_id": request_id,
    }
    headers = {"x-model-version": arm.version_label, "x-model-name": arm.name}
    return Response(dumps(payload), 200, headers, "application/json")


def _schema(table: RouteTable) -> dict[str, Any]:
    """What ``GET /schema`` says: the primary, every arm, the policy and the contract."""
    primary = table.primary
    contract = primary.model.contract
    return {
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


__all__ = ["ModelServer", "ServedModel", "create_serving_app"]
