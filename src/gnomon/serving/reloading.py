"""The server's current route table, and how a deployment's server keeps it current."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from gnomon.serving.batching import Batcher
from gnomon.serving.metrics import ServingMetrics
from gnomon.serving.routing import RouteTable

logger = logging.getLogger("gnomon.serving")
_RETIRE_AFTER_S = 30.0  # a replaced arm's batcher outlives the swap by this long


class Routes:
    """The server's current route table, and how to refresh it (deployment mode).

    A request reads ``table`` once, so a swap never splits one request across tables.
    """

    def __init__(
        self,
        table: RouteTable,
        reload: Callable[[RouteTable], RouteTable | None] | None = None,
        interval: float = 2.0,
    ) -> None:
        self.table = table
        self.reload = reload  # returns a new table, or None when nothing changed
        self.interval = interval

    async def watch(self, metrics: ServingMetrics) -> None:
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


__all__ = ["Routes"]
