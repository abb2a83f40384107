"""W3's floor: the least a Python server can do, a bare Starlette app that parses the JSON,
builds a one-row frame and calls ``predict`` once per request (no batching, no records).

Run with the project venv's uvicorn, 1 worker; ``W3_FLOOR_MODEL`` names the pickled model.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

MODEL: Any = pickle.loads(Path(os.environ["W3_FLOOR_MODEL"]).read_bytes())


async def predict(request: Request) -> JSONResponse:
    payload = await request.json()
    frame = pd.DataFrame.from_records(payload["records"])
    return JSONResponse({"predictions": MODEL.predict(frame).tolist()})


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/healthz", healthz)])
