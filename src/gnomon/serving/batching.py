"""Adaptive batching: concurrent requests share one ``predict`` call.

A model like a random forest answers 16 rows in about the time it takes for one, so requests
that arrive together are concatenated, predicted once on a worker thread, and split back. A
batch closes when it holds ``max_rows`` rows or ``max_wait_ms`` passed since its first request;
a request alone is answered at once (the wait starts only when another request is queued).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gnomon.errors import Unavailable


@dataclass(frozen=True, slots=True)
class BatchConfig:
    max_rows: int = 64
    max_wait_ms: float = 2.0
    # A predict faster than this runs on the event loop: the hop to a worker thread would
    # cost more than it saves (a linear model answers in well under a millisecond).
    inline_under_ms: float = 1.0


@dataclass
class _Pending:
    frame: pd.DataFrame
    future: asyncio.Future[Any] = field(repr=False)


class Batcher:
    """Gathers frames from concurrent callers into one call of ``predict``."""

    def __init__(self, predict: Callable[[pd.DataFrame], Any], config: BatchConfig) -> None:
        self._predict = predict
        self._config = config
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task[None] | None = None
        self._recent_ms = float("inf")  # moving average of predict time; starts on a thread

    async def predict(self, frame: pd.DataFrame) -> Any:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run())
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(frame, future))
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            await self._gather(batch)
            frames = [p.frame for p in batch]
            try:
                combined = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
                result = await self._call(loop, combined)
                answers = _split([len(frame) for frame in frames], result)
            except Exception as exc:  # each caller gets the error of the call it shared
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            for pending, answer in zip(batch, answers, strict=True):
                if not pending.future.done():
                    pending.future.set_result(answer)

    async def _call(self, loop: asyncio.AbstractEventLoop, frame: pd.DataFrame) -> Any:
        started = time.perf_counter()
        if self._recent_ms < self._config.inline_under_ms:
            result = self._predict(frame)
        else:
            result = await loop.run_in_executor(None, self._predict, frame)
        took = (time.perf_counter() - started) * 1000
        self._recent_ms = (
            took if self._recent_ms == float("inf") else 0.8 * self._recent_ms + 0.2 * took
        )
        return result

    async def _gather(self, batch: list[_Pending]) -> None:
        assert self._queue is not None
        rows = len(batch[0].frame)
        deadline = asyncio.get_running_loop().time() + self._config.max_wait_ms / 1000
        while rows < self._config.max_rows:
            if self._queue.empty():
                # Nobody else is waiting: do not make a lone request wait for company.
                await asyncio.sleep(0)
                if self._queue.empty():
                    return
            timeout = deadline - asyncio.get_running_loop().time()
            if timeout <= 0:
                return
            try:
                pending = await asyncio.wait_for(self._queue.get(), timeout)
            except TimeoutError:
                return
            batch.append(pending)
            rows += len(pending.frame)


def _split(sizes: list[int], result: Any) -> list[Any]:
    """Each request's share of one call's ``result``, of the type the model returned (a
    DataFrame's slice keeps its columns); a request alone gets the answer as it is.

    Raises:
        Unavailable: the answer is not one value per row, so it cannot be shared out.
    """
    if len(sizes) == 1:
        return [result]
    rows: Any
    if isinstance(result, pd.DataFrame | pd.Series):
        rows, count = result.iloc, len(result)
    elif isinstance(result, list | tuple):
        rows, count = result, len(result)
    else:  # an array, or an array-like (a tensor): NumPy rows
        try:
            rows = np.asarray(result)
        except ValueError:  # ragged
            rows = np.asarray(None)
        count = len(rows) if rows.ndim else -1
    if count != sum(sizes):
        raise Unavailable(
            f"the model answered a {type(result).__name__} for a batch of {sum(sizes)} rows "
            "rather than one value per row, so it cannot be shared out: serve the model "
            "unbatched (--no-batching, or save it with metadata={'batchable': False})"
        )
    shares, start = [], 0
    for size in sizes:
        shares.append(rows[start : start + size])
        start += size
    return shares
