"""``gnomon data gc``: content objects that no version names, removed.

An add stores its objects before it records its version, and an upload to a server stores
each object before any version names it; an add cut short, or uploads never followed by an
add, leave objects behind. An object is removed when no manifest of the workspace names it
and it was stored, or last found stored by an add, before the grace period: an add in
progress has either touched what it reuses or stored it itself within that time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from gnomon._types import Scope, now_ms
from gnomon.data.api import DEFAULT_GRACE_S
from gnomon.data.objects import ObjectStore
from gnomon.data.sql import SqlDatasetStore
from gnomon.errors import InvalidInput

MAX_GRACE_S = 10 * 365 * 86_400.0

Progress = Callable[[int, int], None]  # (manifests read, manifests in all)


@dataclass(frozen=True, slots=True)
class Collected:
    """What ``gc`` removed (or, with ``dry_run``, would remove) and what it read."""

    objects: int
    bytes: int
    manifests: int
    dry_run: bool


def collect(
    store: SqlDatasetStore,
    objects: ObjectStore,
    scope: Scope,
    *,
    grace_s: float = DEFAULT_GRACE_S,
    dry_run: bool = False,
    on_progress: Progress | None = None,
) -> Collected:
    """Removes the workspace's objects no version names, stored before ``grace_s``.

    Raises:
        InvalidInput: ``grace_s`` is not a number of seconds from 0 to ten years.
    """
    if not (isinstance(grace_s, int | float) and math.isfinite(grace_s)) or not (
        0 <= grace_s <= MAX_GRACE_S
    ):
        raise InvalidInput(f"the grace period is 0 to {MAX_GRACE_S:,.0f} seconds")
    cutoff = now_ms() - int(grace_s * 1000)
    # The candidates first: an object reused after this is refused by forget_objects anyway.
    candidates = store.objects_stored_before(scope, cutoff)
    manifests = store.manifest_digests(scope)
    named: set[str] = set()
    for done, digest in enumerate(manifests, 1):
        named.update(entry.digest for entry in objects.manifest(digest).files)
        if on_progress is not None:
            on_progress(done, len(manifests))
    orphans = sorted(d for d in candidates if d not in named)
    if dry_run:
        return Collected(len(orphans), sum(candidates[d] for d in orphans), len(manifests), True)

    def delete(digest: str) -> None:
        objects.store.delete(objects.object_key(digest))

    gone = store.forget_objects(scope, orphans, cutoff, delete)
    return Collected(len(gone), sum(candidates[d] for d in gone), len(manifests), False)


__all__ = ["DEFAULT_GRACE_S", "Collected", "collect"]
