"""The buffer's outbox: memory up to a bound, then a private spill file, in log order."""

from __future__ import annotations

import math
import stat
from pathlib import Path

from gnomon.tracking.entities import Metric, RunData
from gnomon.tracking.outbox import Batch, Outbox


def _batch(run_id: str, step: int, value: float = 1.0) -> Batch:
    return Batch(run_id, RunData([Metric("m", value, step, 1000 + step)], {"p": "1"}))


def test_batches_leave_in_the_order_they_came_across_memory_and_spill(tmp_path: Path) -> None:
    outbox = Outbox(max_items=4, spill_dir=tmp_path / "spill")  # two batches of 2 in memory
    first = [_batch("a", 0), _batch("b", 0)]
    later = [_batch("a", 1, math.nan), _batch("b", 1, math.inf), _batch("a", 2, -0.5)]
    assert outbox.put(first) == []
    assert outbox.spill_path is None
    assert outbox.put(later) == []
    spill = outbox.spill_path
    assert spill is not None and stat.S_IMODE(spill.stat().st_mode) == 0o600
    assert stat.S_IMODE(spill.parent.stat().st_mode) == 0o700
    assert outbox.peek() == first[0]
    outbox.pop()
    assert outbox.put([_batch("b", 2)]) == []  # spilling: newer batches queue behind the file
    out = [first[0], *outbox.take_all()]
    assert [(b.run_id, b.data.metrics[0].step) for b in out] == [
        ("a", 0),
        ("b", 0),
        ("a", 1),
        ("b", 1),
        ("a", 2),
        ("b", 2),
    ]
    assert math.isnan(out[2].data.metrics[0].value) and out[3].data.metrics[0].value == math.inf
    assert out[4] == later[2] and out[4].data.params == {"p": "1"}
    assert not spill.exists()  # read to its end: removed, back to memory
    assert outbox.put([_batch("c", 0)]) == [] and outbox.spill_path is None


def test_what_cannot_be_spilled_is_handed_back(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    outbox = Outbox(max_items=2, spill_dir=tmp_path / "file" / "spill")
    kept, refused = _batch("a", 0), _batch("a", 1)
    assert outbox.put([kept, refused]) == [refused]
    assert list(outbox.take_all()) == [kept]
