"""The model server: one loaded model behind /predict, /invocations, /schema and the probes.

Starlette rather than FastAPI: the predict path is the hot path (see bench W3), and its input
is validated by the model's contract, not by a request schema.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gnomon.errors import GnomonError, InvalidInput, PayloadTooLarge, Unavailable
from gnomon.models import LoadedModel
from gnomon.server.middleware import HttpMetrics, ObservabilityMiddleware
from gnomon.serving.batching import BatchConfig, Batcher
from gnomon.serving.enforce import Policy, Violation, enforce, raise_for
from gnomon.serving.inputs import parse_body, parse_invocations
from gnomon.serving.records import Outcome, OutcomeWriter, PredictionRecord, RecordWriter

logger = logging.getLogger("gnomon.serving")
MAX_BODY_BYTES = 16 * 2**20


@dataclass
class ServedModel:
    """What a server answers with: the model and where it came from."""

    model: LoadedModel
    name: str
    version: int | None
    uri: str
    deployment: str
    policy: Policy = Policy.REJECT
    batching: BatchConfig | None = field(default_factory=BatchConfig)


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.http = HttpMetrics(registry)
        self.predictions = Counter(
            "gnomon_predictions_total", "Rows predicted", ["model", "version"], registry=registry
        )
        self.errors = Counter(
            "gnomon_prediction_errors_total", "Failed predict calls", ["kind"], registry=registry
        )
        self.violations = Counter(
            "gnomon_contract_violations_total",
            "Contract violations in requests",
            ["column", "problem"],
            registry=registry,
        )


def create_serving_app(
    served: ServedModel,
    records: RecordWriter | None = None,
    outcomes: OutcomeWriter | None = None,
) -> Starlette:
    """An ASGI app answering with ``served``; ``records`` receives every prediction and
    ``outcomes`` the ground truth clients post later (joined by request id)."""
    metrics = _Metrics(CollectorRegistry())
    contract = served.model.contract
    columns = contract.input_names if contract is not None else None
    batcher = Batcher(served.model.predict, served.batching) if served.batching else None
    version_header = str(served.version) if served.version is not None else "local"

    async def predict_with(request: Request, parse: Any) -> Response:
        started = time.perf_counter()
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"request body is over the limit of {MAX_BODY_BYTES} bytes")
        frame = parse(body, request.headers.get("content-type"), columns)
        violations: list[Violation] = []
        if contract is not None:
            frame, violations = enforce(frame, contract, served.policy)
            _count(metrics, violations)
            if violations and served.policy is not Policy.WARN:
                raise_for(violations)
        predictions = await _predict(served.model, batcher, frame, metrics)
        values = predictions.tolist() if isinstance(predictions, np.ndarray) else list(predictions)
        request_id = request.scope["state"]["request_id"]
        latency_ms = (time.perf_counter() - started) * 1000
        metrics.predictions.labels(served.name, version_header).inc(len(values))
        if records is not None:  # built on the writer thread, not here
            records.submit_later(
                functools.partial(
                    _records, served, request_id, frame, values, latency_ms, violations
                )
            )
        payload = {"predictions": values, "model_version": served.version, "request_id": request_id}
        headers = {"x-model-version": version_header}
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
        items = _parse_outcomes(await request.body(), served.deployment)
        outcomes.submit(items)
        return JSONResponse({"accepted": len(items)}, status_code=202)

    async def schema(request: Request) -> Response:
        body = {
            "model": served.name,
            "version": served.version,
            "uri": served.uri,
            "flavor": served.model.flavor,
            "policy": served.policy.value,
            "contract": contract.to_dict() if contract is not None else None,
        }
        return JSONResponse(body)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        return JSONResponse({"status": "ready", "model": served.name, "version": served.version})

    async def prometheus(request: Request) -> Response:
        return Response(generate_latest(metrics.http.registry), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if batcher is not None:
            await batcher.close()
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
        exception_handlers={Exception: _error_response, 404: _not_found, 405: _not_allowed},
        lifespan=lifespan,
    )
    app.add_middleware(ObservabilityMiddleware, metrics=metrics.http)
    app.state.served = served
    app.state.records = records
    return app


async def _predict(
    model: LoadedModel, batcher: Batcher | None, frame: pd.DataFrame, metrics: _Metrics
) -> Any:
    try:
        if batcher is not None:
            return await batcher.predict(frame)
        return model.predict(frame)
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
    for violation in violations:
        metrics.violations.labels(violation.column, violation.problem).inc()


def _records(
    served: ServedModel,
    request_id: str,
    frame: pd.DataFrame,
    values: list[Any],
    latency_ms: float,
    violations: list[Violation],
) -> list[PredictionRecord]:
    now = int(time.time() * 1000)
    rows = frame.to_dict(orient="records")
    found = [_violation_dict(v) for v in violations]
    per_row = latency_ms / max(len(rows), 1)
    return [
        PredictionRecord(
            request_id=request_id if len(rows) == 1 else f"{request_id}:{index}",
            time_ms=now,
            deployment=served.deployment,
            model_name=served.name,
            model_version=served.version,
            inputs=row,
            outputs=value,
            latency_ms=per_row,
            violations=[v for v in found if v["row"] == index] or None,
        )
        for index, (row, value) in enumerate(zip(rows, values, strict=True))
    ]


def _parse_outcomes(body: bytes, deployment: str) -> list[Outcome]:
    """``{"request_id": …, "value": …}`` or ``{"outcomes": [that, …]}``."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON body: {exc}", {"malformed": True}) from exc
    items = data.get("outcomes", [data]) if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidInput('expected {"request_id": ..., "value": ...} or {"outcomes": [...]}')
    now = int(time.time() * 1000)
    found = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("request_id"), str):
            raise InvalidInput(f"outcome {index} needs a string request_id and a value")
        if "value" not in item:
            raise InvalidInput(f"outcome {index} ({item['request_id']!r}) has no value")
        found.append(Outcome(item["request_id"], now, deployment, item["value"]))
    return found


def _violation_dict(violation: Violation) -> dict[str, Any]:
    return {
        "row": violation.row,
        "column": violation.column,
        "problem": violation.problem,
        "expected": violation.expected,
    }


async def _error_response(
    request: Request, exc: Exception, status_override: int | None = None
) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", uuid.uuid4().hex)
    if isinstance(exc, GnomonError):
        status = status_override or exc.status
        if isinstance(exc, InvalidInput) and exc.details.get("malformed"):
            status = 400
        error = exc
    else:
        logger.exception("unexpected error (request %s)", request_id)
        error, status = Unavailable(f"internal error; quote request id {request_id}"), 503
    payload = error.to_payload()
    payload["error"]["request_id"] = request_id
    return Response(orjson.dumps(payload, default=str), status, media_type="application/json")


async def _not_found(request: Request, exc: Exception) -> Response:
    from gnomon.errors import NotFound

    return await _error_response(request, NotFound(f"no route {request.url.path}"))


async def _not_allowed(request: Request, exc: Exception) -> Response:
    error = InvalidInput(f"method {request.method} is not allowed on {request.url.path}")
    return await _error_response(request, error, 405)
