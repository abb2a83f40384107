"""Adopting prediction records and outcomes written before they were keyed by workspace id.

Model servers used to write them below the workspace's *name*::

    {artifact_root}/{workspace_name}/serving/predictions/deployment=…/date=…/hour=…/part-….parquet
    {artifact_root}/{workspace_name}/serving/outcomes/deployment=…/date=…/hour=…/part-….parquet

Every reader now looks below the id (:mod:`gnomon.predictions.storage`), so those files are
moved to the same relative path under ``records/`` and ``outcomes/`` there. Outcomes that were
acknowledged must never drop out of ``records()`` unseen, hence the care:

- each file is copied, read back and compared, and only then removed from the old place, so
  an interrupted move leaves it in both places and the next run finishes the move;
- a file already at its new key with the same bytes (a move interrupted after the copy, or two
  processes moving at once) is only removed from the old place;
- a file whose new key holds other bytes stays where it is, logged and reported as kept.

``gnomon db upgrade`` moves the files of every workspace; :func:`adopt_once` moves one
workspace's, once per process, where a server opens its predictions store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from gnomon.artifacts import ArtifactStore, open_artifact_store
from gnomon.errors import GnomonError, InvalidInput, NotFound
from gnomon.predictions.records import OUTCOMES, RECORDS

logger = logging.getLogger(__name__)

FOLDER = "serving"  # below the workspace's name
# Old prefix → new prefix, both relative to their store's root.
MOVES = {"predictions": RECORDS, "outcomes": OUTCOMES}


@dataclass(slots=True)
class Adoption:
    """What a move did: keys are those of the old place (``predictions/…``, ``outcomes/…``)."""

    moved: list[str] = field(default_factory=list)  # copied, confirmed, removed from the old place
    duplicates: list[str] = field(default_factory=list)  # already there: only removed
    kept: list[str] = field(default_factory=list)  # another file holds the new key: left alone

    def add(self, other: Adoption) -> None:
        self.moved += other.moved
        self.duplicates += other.duplicates
        self.kept += other.kept


def legacy_store(
    artifact_root: str, workspace_name: str, s3_endpoint_url: str | None = None
) -> ArtifactStore:
    """Where the model servers of ``workspace_name`` used to write; built as they built it."""
    return open_artifact_store(
        f"{artifact_root}/{workspace_name}/{FOLDER}", s3_endpoint_url=s3_endpoint_url
    )


def adopt(
    artifact_root: str,
    workspaces: Iterable[tuple[str, str]],
    s3_endpoint_url: str | None = None,
) -> Adoption:
    """Move the old-layout files of each ``(workspace id, workspace name)`` into its
    predictions store. Safe to run again, and alongside servers doing the same.

    Raises:
        Unavailable: the artifact store is (the files moved so far stay moved).
    """
    from gnomon.predictions.storage import predictions_store

    done = Adoption()
    for workspace_id, name in workspaces:
        try:
            into = predictions_store(artifact_root, workspace_id, s3_endpoint_url)
        except InvalidInput:  # not an id auth made: nothing could ever read its records
            logger.warning("not moving prediction files of workspace %r: odd id", name)
            continue
        if not _safe(name):
            continue
        done.add(move(legacy_store(artifact_root, name, s3_endpoint_url), into))
    return done


def move(old: ArtifactStore, new: ArtifactStore) -> Adoption:
    """Move every file below ``old``'s ``predictions/`` and ``outcomes/`` into ``new``."""
    done = Adoption()
    top = {info.path for info in old.list() if info.is_dir}  # one listing when there is nothing
    for prefix in sorted(top & MOVES.keys()):
        for key in _files(old, prefix):
            target = MOVES[prefix] + key[len(prefix) :]
            _move_one(old, key, new, target, done)
    if done.moved or done.duplicates or done.kept:
        logger.info(
            "adopted prediction files from %s into %s: %d moved, %d already there, %d kept",
            old.root,
            new.root,
            len(done.moved),
            len(done.duplicates),
            len(done.kept),
        )
    return done


_adopted: set[tuple[str, str]] = set()  # (new root, workspace name): checked in this process
_adopting = threading.Lock()


def adopt_once(
    artifact_root: str, workspace_name: str, into: ArtifactStore, s3_endpoint_url: str | None
) -> None:
    """:func:`move` the old files of ``workspace_name`` into ``into`` unless this process has
    already. A failure is logged, not raised: the caller's own work goes on, and the next
    call tries again."""
    done = (into.root, workspace_name)
    if done in _adopted:
        return
    with _adopting:
        if done in _adopted:
            return
        if not _safe(workspace_name):
            _adopted.add(done)
            return
        try:
            move(legacy_store(artifact_root, workspace_name, s3_endpoint_url), into)
        except GnomonError as exc:
            logger.warning(
                "could not move old prediction files of workspace %r yet: %s", workspace_name, exc
            )
            return
        _adopted.add(done)


def _move_one(
    old: ArtifactStore, key: str, new: ArtifactStore, target: str, done: Adoption
) -> None:
    try:
        data = old.get_bytes(key)
    except NotFound:
        return  # another process moved it since the listing
    try:
        there: bytes | None = new.get_bytes(target)
    except NotFound:
        there = None
    if there is None:
        new.put_bytes(data, target)
        if new.get_bytes(target) != data:  # confirmed before the only other copy goes
            done.kept.append(key)
            logger.warning("prediction file %r: its copy at %r reads back different", key, target)
            return
        done.moved.append(key)
    elif there == data:
        done.duplicates.append(key)
    else:
        done.kept.append(key)
        logger.warning(
            "prediction file %r stays at %s: %r in %s holds other data",
            key,
            old.root,
            target,
            new.root,
        )
        return
    old.delete(key)


def _files(store: ArtifactStore, prefix: str) -> Iterator[str]:
    for info in store.list(prefix):
        if info.is_dir:
            yield from _files(store, info.path)
        else:
            yield info.path


def _safe(workspace_name: str) -> bool:
    # Names are refused today; an older workspace named '..' wrote above the artifact root,
    # where another installation's files may be: those are for a person to move.
    if workspace_name in ("", "..") or "/" in workspace_name:
        logger.warning(
            "not moving prediction files of workspace %r: its old folder is outside the "
            "artifact root",
            workspace_name,
        )
        return False
    return True


__all__ = ["FOLDER", "MOVES", "Adoption", "adopt", "adopt_once", "legacy_store", "move"]
