"""Per row of an entity frame, the best source row at or before its time, kept while the
source streams by in batches: memory follows the frame's size, never the source's.

The frame's rows, put in (key, time) order, are slots. A source row falls in the slot of the
first frame row of its key at or after its time; per slot only its best row is kept (latest
event time, then created time, then row read last). A frame row's winner is then the best row
of the last filled slot of its key at or before its own, when fresh within the TTL: rows in
later slots of a key are strictly later, so that row is the latest at or before its time.

Slots are found with one integer per row, ``code * width + rank``: ``code`` numbers the key
(``keys.py``) and ``rank`` counts the frame's times earlier than the row's, so that integer
sorts as (key, time) does, and one ``searchsorted`` places a source row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

OLDEST = -(2**63)  # a null time; a row without a created time loses every tie


class Latest:
    """The winners of a frame's rows with a key and a time (``codes``: their keys' codes,
    0..size-1; ``times``: epoch microseconds), as source rows are added."""

    def __init__(self, codes: np.ndarray, times: np.ndarray, size: int, ttl_us: int | None):
        import numpy as np

        lowest, highest = np.iinfo(np.int64).min, np.iinfo(np.int64).max
        self.ttl_us, self.width = ttl_us, len(times) + 1  # ranks run 0..len(times)
        self.ordered = np.sort(times)
        slots = codes * self.width + _positions(self.ordered, times)
        self.order = np.argsort(slots)  # slot -> frame row
        self.slots = slots[self.order]
        del slots
        # per code, its first slot and the one after its last; the times a source row of it
        # can take run from its frame rows' earliest (less the TTL) to their latest
        bounds = np.searchsorted(self.slots, np.arange(size + 1, dtype=np.int64) * self.width)
        asked = bounds[1:] > bounds[:-1]
        in_order = times[self.order]
        top = max(len(times) - 1, 0)
        self.hi = np.where(asked, in_order[np.clip(bounds[1:] - 1, 0, top)], lowest)
        # above OLDEST, so that a null time is never in bounds
        if ttl_us is None:
            self.lo = np.where(asked, lowest + 1, highest)
        else:
            earliest = in_order[np.clip(bounds[:-1], 0, top)]
            floor = lowest + 1 + ttl_us
            self.lo = np.where(asked, np.maximum(earliest, floor) - ttl_us, highest)
        del in_order, bounds
        self.best_time = np.full(len(times), lowest, dtype=np.int64)
        self.best_created = np.full(len(times), lowest, dtype=np.int64)
        self.best_row = np.full(len(times), -1, dtype=np.int64)

    def in_bounds(self, code: np.ndarray, time: np.ndarray) -> np.ndarray:
        """Which source rows (codes, times; nulls are ``OLDEST``) some asked row can take."""
        kept: np.ndarray = (time <= self.hi[code]) & (time >= self.lo[code])  # lo > OLDEST
        return kept

    def add(self, code: np.ndarray, time: np.ndarray, created: np.ndarray, row: np.ndarray) -> None:
        """Source rows (their codes, event and created times, numbers) that ``in_bounds``
        kept; within one call ``row`` ascends, calls may come in any order."""

        slot = _positions(self.slots, code * self.width + _positions(self.ordered, time))
        at = _best_of_shared_slots(slot, time, created)
        if at is not None:
            slot, time, created, row = slot[at], time[at], created[at], row[at]
        now, then = self.best_time[slot], self.best_created[slot]
        newer = (time > now) | (
            (time == now) & ((created > then) | ((created == then) & (row > self.best_row[slot])))
        )
        slot = slot[newer]
        self.best_time[slot] = time[newer]
        self.best_created[slot] = created[newer]
        self.best_row[slot] = row[newer]

    def winners(self, times: np.ndarray) -> np.ndarray:
        """Per frame row (``times``: as given first), its winning source row, or -1."""
        import numpy as np

        positions = np.arange(len(self.slots))
        filled = np.maximum.accumulate(np.where(self.best_row >= 0, positions, -1))
        ok = filled >= 0
        filled = np.maximum(filled, 0)
        ok &= self.slots[filled] // self.width == self.slots // self.width  # the row's own key
        if self.ttl_us is not None:
            ok &= self.best_time[filled] >= times[self.order] - self.ttl_us
        won = np.empty(len(times), dtype=np.int64)
        won[self.order] = np.where(ok, self.best_row[filled], -1)
        return won


def _best_of_shared_slots(
    slot: np.ndarray, time: np.ndarray, created: np.ndarray
) -> np.ndarray | None:
    """Where rows share a slot, the best of each (latest time, then created time, then the
    last row) and every other row; None where none share one."""
    import numpy as np

    # by slot, then position: rows stay in order within a slot (a stable sort, but faster)
    order = np.argsort(slot * len(slot) + np.arange(len(slot)))
    by_slot = slot[order]
    same = by_slot[1:] == by_slot[:-1]
    if not same.any():
        return None
    shared = np.zeros(len(order), dtype=bool)
    shared[1:] = same
    shared[:-1] |= same
    rivals = order[shared]  # by slot, then row
    rivals = rivals[np.lexsort((created[rivals], time[rivals], slot[rivals]))]  # stable
    last = np.ones(len(rivals), dtype=bool)
    last[:-1] = slot[rivals][1:] != slot[rivals][:-1]
    return np.concatenate([order[~shared], rivals[last]])


def _positions(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.searchsorted(ordered, values)``, looked up in sorted order (several times faster
    than in arbitrary order: the searches then walk memory in one direction)."""
    import numpy as np

    order = np.argsort(values)
    found = np.empty(len(values), dtype=np.int64)
    found[order] = np.searchsorted(ordered, values[order])
    return found
