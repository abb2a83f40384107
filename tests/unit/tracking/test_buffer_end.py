"""A run's end written with its last values (``LogBuffer.end``): one write, never when
values of the run were given up or a task queued before the end still has values for it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from gnomon.errors import Conflict, Unavailable
from gnomon.tracking.buffer import BufferOptions, LogBuffer
from gnomon.tracking.entities import Metric, RunData, RunStatus
from gnomon.tracking.outbox import Batch, Outbox

Write = tuple[str, RunData, RunStatus | None]


class Store:
    """Records each write; fails the ones ``failing`` says, with the error it holds."""

    def __init__(self) -> None:
        self.writes: list[Write] = []
        self.failing: Exception | None = None

    def __call__(self, run_id: str, data: RunData, end: RunStatus | None) -> None:
        if self.failing is not None:
            raise self.failing
        self.writes.append((run_id, data, end))


def _buffer(store: Store, tmp_path: Path, **options: float) -> LogBuffer:
    return LogBuffer(store, BufferOptions(spill_dir=tmp_path / "spill", **options))


def test_the_last_values_and_the_end_are_one_write(tmp_path: Path) -> None:
    store = Store()
    buffer = _buffer(store, tmp_path, size=3)
    for step in range(5):
        buffer.add_metric("r", Metric("loss", 1.0, step, 1))
    buffer.add("r", {"lr": "0.1"}, {})
    assert buffer.end("r", RunStatus.FINISHED) is True
    assert [(len(data.metrics), data.params, end) for _, data, end in store.writes] == [
        (3, {"lr": "0.1"}, None),
        (2, {}, RunStatus.FINISHED),
    ]
    buffer.close()


def test_a_run_with_nothing_left_to_write_is_ended_by_its_caller(tmp_path: Path) -> None:
    # As end_run always did: it ends a run another process ended already, without an error.
    store = Store()
    buffer = _buffer(store, tmp_path)
    assert buffer.end("r", RunStatus.KILLED) is False
    assert store.writes == []
    buffer.close()


def test_a_run_whose_values_were_given_up_is_not_ended_by_the_buffer(tmp_path: Path) -> None:
    store = Store()
    buffer = _buffer(store, tmp_path, retry_window=0.2, backoff=0.05)
    store.failing = Unavailable("the store is away")
    buffer.add_metric("r", Metric("loss", 1.0, 0, 1))
    buffer.wait()  # the retry window runs out: the point is given up
    store.failing = None
    buffer.add_metric("r", Metric("loss", 0.5, 1, 2))
    assert buffer.end("r", RunStatus.FINISHED) is False  # the caller reports it and ends it
    assert [(data.metrics[0].step, end) for _, data, end in store.writes] == [(1, None)]
    assert buffer.take_lost("r") == 1
    buffer.close()


def test_an_end_that_fails_is_left_to_the_caller(tmp_path: Path) -> None:
    store = Store()
    buffer = _buffer(store, tmp_path)
    buffer.add_metric("r", Metric("loss", 1.0, 0, 1))
    store.failing = Conflict("run 'r' is FINISHED; only a RUNNING run can log")
    assert buffer.end("r", RunStatus.FINISHED) is False
    with pytest.raises(Conflict, match="FINISHED"):
        buffer.raise_error()
    buffer.close()


def test_a_task_queued_before_the_end_writes_before_it(tmp_path: Path) -> None:
    # start_run queues the environment capture, which adds tags to the run: a round that
    # took the end before that task ran would end the run under it.
    store = Store()
    buffer = _buffer(store, tmp_path)
    started = threading.Event()

    def slow_task() -> None:  # holds the writer's round while the run ends
        started.set()
        time.sleep(0.1)

    def capture() -> None:
        buffer.add("r", {}, {"gnomon.host": "h"})

    buffer.submit(slow_task)
    assert started.wait(5)
    buffer.submit(capture)  # after the round took its tasks
    buffer.add_metric("r", Metric("loss", 1.0, 0, 1))
    assert buffer.end("r", RunStatus.FINISHED) is True
    tags = [data.tags for _, data, _ in store.writes]
    ends = [end for _, _, end in store.writes]
    assert ends[-1] is RunStatus.FINISHED and ends[:-1] == [None] * (len(ends) - 1)
    assert {"gnomon.host": "h"} in tags
    buffer.close()


def test_a_spilled_end_comes_back(tmp_path: Path) -> None:
    outbox = Outbox(max_items=0, spill_dir=tmp_path / "spill")
    batch = Batch("r", RunData([Metric("m", 1.0, 0, 1)]), RunStatus.FAILED)
    assert outbox.put([batch]) == [] and outbox.spill_path is not None
    assert list(outbox.take_all()) == [batch]
