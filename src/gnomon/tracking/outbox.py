"""The buffer's queue of batches waiting for the store, oldest first.

Up to ``max_items`` logged values wait in memory. Past that, batches are appended to a spill
file (JSON lines, mode 0600, under ``$GNOMON_HOME/spill/``) and read back in order once
the memory part is sent. Once a batch is spilled, every newer one is spilled too, until the
file is read to its end, so the order of a run's batches is always the order they were logged
in. The file is deleted when it is drained, or when the process closes the buffer; after a
crash it stays behind and is not replayed (nothing else reads it).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from gnomon._private_files import make_private_dirs, open_private
from gnomon.tracking.entities import Metric, RunData, RunStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Batch:
    """One write to one run; with ``end``, the run's last, which also ends it."""

    run_id: str
    data: RunData
    end: RunStatus | None = None

    @property
    def size(self) -> int:
        return len(self.data.metrics) + len(self.data.params) + len(self.data.tags)


class Outbox:
    """A FIFO of batches, in memory up to ``max_items`` values, then in a spill file.

    ``lock`` serialises writers that must put several batches in one go (see
    ``LogBuffer._absorb``); every method also takes it.
    """

    def __init__(self, max_items: int, spill_dir: Path) -> None:
        self.lock = threading.RLock()
        self._max_items = max_items
        self._spill_dir = spill_dir
        self._memory: deque[Batch] = deque()
        self._in_memory = 0
        self._spill: _Spill | None = None

    @property
    def spill_path(self) -> Path | None:
        return None if self._spill is None else self._spill.path

    def put(self, batches: Iterable[Batch]) -> list[Batch]:
        """Queue ``batches``; returns those that could be neither kept nor spilled."""
        failed: list[Batch] = []
        with self.lock:
            for batch in batches:
                if self._spill is None and self._in_memory + batch.size <= self._max_items:
                    self._memory.append(batch)
                    self._in_memory += batch.size
                elif not self._spill_one(batch):
                    failed.append(batch)
        return failed

    def peek(self) -> Batch | None:
        """The oldest batch, left in place until ``pop``."""
        with self.lock:
            if self._memory:
                return self._memory[0]
            if self._spill is None:
                return None
            head = self._spill.peek()
            if head is None:  # read to its end: back to memory
                self._spill.delete()
                self._spill = None
            return head

    def pop(self) -> None:
        with self.lock:
            if self._memory:
                self._in_memory -= self._memory.popleft().size
            elif self._spill is not None:
                self._spill.advance()

    def take_all(self) -> Iterator[Batch]:
        """Empty the queue, yielding what it held (to count what is given up)."""
        while (batch := self.peek()) is not None:
            self.pop()
            yield batch

    def close(self) -> None:
        with self.lock:
            if self._spill is not None:
                self._spill.delete()
                self._spill = None

    def _spill_one(self, batch: Batch) -> bool:
        try:
            if self._spill is None:
                self._spill = _Spill.create(self._spill_dir)
                logger.warning(
                    "gnomon: more than %d logged values are waiting for the server; "
                    "spilling the newest to %s",
                    self._max_items,
                    self._spill.path,
                )
            self._spill.append(batch)
        except OSError as exc:
            logger.error("gnomon: cannot spill logged values to %s: %s", self._spill_dir, exc)
            return False
        return True


class _Spill:
    """An append-only file of batches, one JSON line each, read back from the front."""

    def __init__(self, path: Path, sink: int, source: IO[bytes]) -> None:
        self.path = path
        self._sink = sink
        self._source = source
        self._head: Batch | None = None

    @classmethod
    def create(cls, folder: Path) -> _Spill:
        make_private_dirs(folder)
        path = folder / f"{os.getpid()}-{uuid.uuid4().hex}.jsonl"
        sink = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND)
        try:
            return cls(path, sink, open(path, "rb"))  # read back from the front, as appended
        except OSError:
            os.close(sink)
            raise

    def append(self, batch: Batch) -> None:
        line = json.dumps(_encode(batch), separators=(",", ":")).encode() + b"\n"
        written = os.write(self._sink, line)
        if written != len(line):
            raise OSError(f"short write to {self.path} ({written} of {len(line)} bytes)")

    def peek(self) -> Batch | None:
        if self._head is None:
            line = self._source.readline()
            if line:
                self._head = _decode(json.loads(line))
        return self._head

    def advance(self) -> None:
        self._head = None

    def delete(self) -> None:
        self._source.close()
        os.close(self._sink)
        self.path.unlink(missing_ok=True)


def _encode(batch: Batch) -> dict[str, Any]:
    data = batch.data
    points = [[m.key, m.value, m.step, m.timestamp] for m in data.metrics]
    end = None if batch.end is None else batch.end.value
    return {"run": batch.run_id, "m": points, "p": data.params, "t": data.tags, "e": end}


def _decode(body: dict[str, Any]) -> Batch:
    # json writes NaN and ±inf as NaN/Infinity and reads them back: values round-trip exactly.
    metrics = [Metric(k, float(v), int(s), int(t)) for k, v, s, t in body["m"]]
    end = None if body.get("e") is None else RunStatus(body["e"])
    return Batch(body["run"], RunData(metrics, body["p"], body["t"]), end)
