"""SqlDatasetStore: datasets, versions and the workspace's stored objects (SQLAlchemy Core)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from gnomon._types import Scope, new_id, now_ms
from gnomon.checks import shown
from gnomon.data.access import DatasetRole, not_found
from gnomon.data.entities import Dataset, DatasetKind, DatasetVersion, Manifest, RunInput
from gnomon.data.tables import (
    dataset_access,
    dataset_objects,
    dataset_schemas,
    dataset_versions,
    datasets,
    run_inputs,
)
from gnomon.errors import Conflict, NotFound
from gnomon.store.database import Database
from gnomon.tracking.tables import experiments, runs

_d = datasets.c
_v = dataset_versions.c
_o = dataset_objects.c
_i = run_inputs.c
_s = dataset_schemas.c
_a = dataset_access.c
_r = runs.c
_e = experiments.c
MAX_USERS_LISTED = 1000  # runs `used_by` returns, newest first
_IN_CHUNK = 500  # digests per IN (...) list: well under every driver's parameter limit
_FORGET_CHUNK = 100  # objects gc removes per transaction (SQLite's writers wait on it)


class SqlDatasetStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def stored_objects(self, scope: Scope, digests: Iterable[str]) -> set[str]:
        """Which of ``digests`` the workspace already stores."""
        return set(self.object_sizes(scope, digests))

    def reuse_objects(self, scope: Scope, digests: Iterable[str]) -> set[str]:
        """Which of ``digests`` the workspace stores, each marked as just used: an add about
        to name them keeps them out of ``gc``'s reach for its grace period."""
        wanted = list(digests)
        if not self.stored_objects(scope, wanted):  # all new: no write lock taken
            return set()
        with self.db.write() as conn:  # found and marked at once: gc waits, or went first
            found = set(_stored_sizes(conn, scope, wanted))
            touched = sorted(found)
            for start in range(0, len(touched), _IN_CHUNK):
                conn.execute(
                    update(dataset_objects)
                    .where(
                        _o.workspace_id == scope.workspace,
                        _o.digest.in_(touched[start : start + _IN_CHUNK]),
                    )
                    .values(stored_time=now_ms())
                )
        return found

    def manifest_digests(self, scope: Scope) -> list[str]:
        """The manifest of every version of every dataset of the workspace."""
        query = (
            select(_v.manifest_digest)
            .join(datasets, _d.id == _v.dataset_id)
            .where(_d.workspace_id == scope.workspace)
            .distinct()
        )
        with self.db.read() as conn:
            return sorted(conn.execute(query).scalars())

    def objects_stored_before(self, scope: Scope, before_ms: int) -> dict[str, int]:
        """Each object (and its size) stored, or last reused, before ``before_ms``."""
        old = _o.stored_time.is_(None) | (_o.stored_time < before_ms)
        query = select(_o.digest, _o.size).where(_o.workspace_id == scope.workspace, old)
        with self.db.read() as conn:
            return {row.digest: row.size for row in conn.execute(query)}

    def forget_objects(
        self,
        scope: Scope,
        digests: Sequence[str],
        before_ms: int,
        delete: Callable[[str], None],
    ) -> list[str]:
        """Removes the objects of ``digests`` not reused since ``before_ms``: ``delete`` (their
        content) runs inside the transaction that removes their rows, so an add that reuses
        one waits, then finds it gone and stores it again. Returns the ones removed."""
        gone: list[str] = []
        old = _o.stored_time.is_(None) | (_o.stored_time < before_ms)
        for start in range(0, len(digests), _FORGET_CHUNK):
            chunk = list(digests[start : start + _FORGET_CHUNK])
            owned = (_o.workspace_id == scope.workspace) & _o.digest.in_(chunk) & old
            with self.db.write() as conn:
                doomed = conn.execute(select(_o.digest).where(owned).with_for_update()).scalars()
                doomed = list(doomed)
                for digest in doomed:
                    delete(digest)
                conn.execute(dataset_objects.delete().where(owned))
            gone += doomed
        return gone

    def object_sizes(self, scope: Scope, digests: Iterable[str]) -> dict[str, int]:
        """The size of each of ``digests`` the workspace stores."""
        with self.db.read() as conn:
            return _stored_sizes(conn, scope, digests)

    def add_object(self, scope: Scope, digest: str, size: int) -> None:
        """Note an object stored before any version names it (an upload to a server)."""
        with self.db.write() as conn:
            _insert_objects(conn, scope, [(digest, size)])

    def access(self, scope: Scope, name: str) -> tuple[dict[str, DatasetRole], str] | None:
        """Dataset ``name``'s access list and its creator; None when it does not exist."""
        with self.db.read() as conn:
            row = conn.execute(
                select(_d.id, _d.created_by).where(
                    _d.workspace_id == scope.workspace, _d.name == name
                )
            ).first()
            if row is None:
                return None
            rows = conn.execute(select(_a.user_name, _a.role).where(_a.dataset_id == row.id)).all()
        return {r.user_name: DatasetRole(r.role) for r in rows}, row.created_by

    def restricted(self, scope: Scope) -> dict[str, dict[str, DatasetRole]]:
        """The access list of every restricted dataset of the workspace, by name."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(_d.name, _a.user_name, _a.role)
                .join(dataset_access, _a.dataset_id == _d.id)
                .where(_d.workspace_id == scope.workspace)
            ).all()
        found: dict[str, dict[str, DatasetRole]] = {}
        for row in rows:
            found.setdefault(row.name, {})[row.user_name] = DatasetRole(row.role)
        return found

    def set_access(self, scope: Scope, name: str, listed: Mapping[str, DatasetRole]) -> None:
        """Replace dataset ``name``'s access list (empty: open it to the workspace)."""
        with self.db.write() as conn:
            dataset = _dataset_row(conn, scope, name)
            conn.execute(dataset_access.delete().where(_a.dataset_id == dataset.id))
            rows = [
                {"dataset_id": dataset.id, "user_name": user, "role": role.value}
                for user, role in listed.items()
            ]
            if rows:
                conn.execute(dataset_access.insert(), rows)

    def latest_digest(self, scope: Scope, name: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(
                select(_v.manifest_digest)
                .join(datasets, _d.id == _v.dataset_id)
                .where(_d.workspace_id == scope.workspace, _d.name == name)
                .where(_v.version == _d.latest_version)
            ).scalar()

    def record_version(
        self,
        scope: Scope,
        name: str,
        manifest: Manifest,
        *,
        message: str,
        source: Mapping[str, str],
        run_id: str | None,
        objects: Sequence[tuple[str, int]],
    ) -> tuple[DatasetVersion, bool]:
        """The new version (and ``True``), or the latest when its content is the same.

        One transaction: the objects it names were stored before, so a version never points
        at content that is not there.
        """
        now = now_ms()
        with self.db.write() as conn:
            row = conn.execute(
                select(datasets).where(_d.workspace_id == scope.workspace, _d.name == name)
            ).first()
            if row is None:
                dataset_id, number = new_id(), 1
                conn.execute(
                    datasets.insert().values(
                        id=dataset_id,
                        workspace_id=scope.workspace,
                        name=name,
                        description="",
                        latest_version=1,
                        created_time=now,
                        updated_time=now,
                        created_by=scope.principal,
                    )
                )
            else:
                dataset_id, number = row.id, row.latest_version + 1
                latest = _version_row(conn, dataset_id, row.latest_version)
                if latest is not None and latest.manifest_digest == manifest.digest:
                    return _version(name, latest._mapping), False
                conn.execute(
                    update(datasets)
                    .where(_d.id == dataset_id, _d.latest_version == row.latest_version)
                    .values(latest_version=number, updated_time=now)
                )
            values: dict[str, Any] = {
                "dataset_id": dataset_id,
                "version": number,
                "manifest_digest": manifest.digest,
                "files": len(manifest.files),
                "bytes": manifest.bytes,
                "kind": manifest.kind.value,
                "message": message,
                "source": json.dumps(dict(source), sort_keys=True),
                "run_id": run_id,
                "created_time": now,
                "created_by": scope.principal,
            }
            conn.execute(dataset_versions.insert().values(**values))
            _insert_objects(conn, scope, objects)
        return _version(name, values), True

    def list(self, scope: Scope) -> list[Dataset]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(datasets).where(_d.workspace_id == scope.workspace).order_by(_d.name)
            ).all()
        return [_dataset(row._mapping) for row in rows]

    def get(self, scope: Scope, name: str) -> Dataset:
        with self.db.read() as conn:
            return _dataset(_dataset_row(conn, scope, name)._mapping)

    def versions(self, scope: Scope, name: str) -> list[DatasetVersion]:
        """Every version, newest first."""
        with self.db.read() as conn:
            dataset = _dataset_row(conn, scope, name)
            rows = conn.execute(
                select(dataset_versions)
                .where(_v.dataset_id == dataset.id)
                .order_by(_v.version.desc())
            ).all()
        return [_version(name, row._mapping) for row in rows]

    def version(self, scope: Scope, name: str, number: int | None) -> DatasetVersion:
        with self.db.read() as conn:
            dataset = _dataset_row(conn, scope, name)
            row = _version_row(conn, dataset.id, number or dataset.latest_version)
        if row is None:
            raise NotFound(
                f"dataset {name!r} has no version {number}; its latest is {dataset.latest_version}",
                {"dataset": name, "version": number},
            )
        return _version(name, row._mapping)

    def record_input(
        self, scope: Scope, run_id: str, name: str, number: int, context: str
    ) -> DatasetVersion:
        """Note that run ``run_id`` (of this workspace) used ``name@number``; again is a no-op.

        Raises:
            NotFound: the run is not this workspace's, or the version does not exist.
        """
        now = now_ms()
        with self.db.write() as conn:
            found = conn.execute(
                select(_r.id).where(_r.id == run_id, _r.workspace_id == scope.workspace)
            ).first()
            if found is None:
                raise NotFound(f"run {shown(run_id)} not found", {"run_id": shown(run_id)})
            dataset = _dataset_row(conn, scope, name)
            row = _version_row(conn, dataset.id, number or dataset.latest_version)
            if row is None:
                raise NotFound(f"dataset {name!r} has no version {number}", {"dataset": name})
            key = (_i.run_id == run_id, _i.dataset_id == dataset.id, _i.version == row.version)
            if conn.execute(select(_i.run_id).where(*key)).first() is None:
                conn.execute(
                    run_inputs.insert().values(
                        run_id=run_id,
                        dataset_id=dataset.id,
                        version=row.version,
                        context=context,
                        recorded_time=now,
                    )
                )
        return _version(name, row._mapping)

    def runs_using(self, scope: Scope, name: str, number: int) -> list[RunInput]:
        """The runs that used ``name@number``, newest first."""
        with self.db.read() as conn:
            dataset = _dataset_row(conn, scope, name)
            rows = conn.execute(
                select(_i.run_id, _i.context, _i.recorded_time, _r.name, _r.status, _e.name)
                .join(runs, _r.id == _i.run_id)
                .join(experiments, _e.id == _r.experiment_id)
                .where(_i.dataset_id == dataset.id, _i.version == number)
                .where(_r.workspace_id == scope.workspace)
                .order_by(_i.recorded_time.desc())
                .limit(MAX_USERS_LISTED)
            ).all()
        ref = f"{name}@{number}"
        return [RunInput(r[0], ref, r[1], r[2], r[3], r[5], r[4]) for r in rows]

    def inputs_of(self, scope: Scope, run_id: str) -> list[RunInput]:
        """The dataset versions run ``run_id`` used, in the order it recorded them."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(_i.run_id, _d.name, _i.version, _i.context, _i.recorded_time)
                .join(datasets, _d.id == _i.dataset_id)
                .where(_i.run_id == run_id, _d.workspace_id == scope.workspace)
                .order_by(_i.recorded_time, _d.name, _i.version)
            ).all()
        return [RunInput(r[0], f"{r[1]}@{r[2]}", r[3], r[4]) for r in rows]

    def schema(self, scope: Scope, name: str) -> tuple[dict[str, Any], int] | None:
        """The dataset's current schema (JSON) and its revision; None before it has one."""
        with self.db.read() as conn:
            dataset = _dataset_row(conn, scope, name)
            row = conn.execute(
                select(_s.schema, _s.revision).where(_s.dataset_id == dataset.id)
            ).first()
        return None if row is None else (json.loads(row.schema), row.revision)

    def set_schema(
        self,
        scope: Scope,
        name: str,
        schema: Mapping[str, Any],
        expected_revision: int | None,
    ) -> int:
        """Store ``schema`` as the dataset's; ``expected_revision`` is the one read before
        the change (None: the dataset must have none yet). Returns the new revision.

        Raises:
            Conflict: someone changed the schema since it was read.
        """
        text = json.dumps(schema, sort_keys=True)
        now = now_ms()
        with self.db.write() as conn:
            dataset = _dataset_row(conn, scope, name)
            values = {"schema": text, "updated_time": now, "updated_by": scope.principal}
            if expected_revision is None:
                taken = conn.execute(select(_s.revision).where(_s.dataset_id == dataset.id)).first()
                if taken is not None:
                    raise Conflict(f"dataset {name!r} already has a schema; edit it instead")
                conn.execute(
                    dataset_schemas.insert().values(dataset_id=dataset.id, revision=1, **values)
                )
                return 1
            done = conn.execute(
                update(dataset_schemas)
                .where(_s.dataset_id == dataset.id, _s.revision == expected_revision)
                .values(revision=expected_revision + 1, **values)
            )
            if done.rowcount != 1:
                raise Conflict(
                    f"the schema of {name!r} changed since revision {expected_revision}; "
                    "read it again"
                )
        return expected_revision + 1


def _insert_objects(conn: Connection, scope: Scope, objects: Sequence[tuple[str, int]]) -> None:
    sizes = dict(objects)
    present = _stored_sizes(conn, scope, sizes)
    at = now_ms()
    rows = [
        {"workspace_id": scope.workspace, "digest": digest, "size": size, "stored_time": at}
        for digest, size in sizes.items()
        if digest not in present
    ]
    if rows:
        conn.execute(dataset_objects.insert(), rows)


def _stored_sizes(conn: Connection, scope: Scope, digests: Iterable[str]) -> dict[str, int]:
    """The stored size of each of ``digests``, asked in chunks of ``_IN_CHUNK``."""
    wanted = sorted(set(digests))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = conn.execute(
            select(_o.digest, _o.size).where(
                _o.workspace_id == scope.workspace, _o.digest.in_(chunk)
            )
        ).all()
        found.update((row.digest, row.size) for row in rows)
    return found


def _dataset_row(conn: Connection, scope: Scope, name: str) -> Any:
    row = conn.execute(
        select(datasets).where(_d.workspace_id == scope.workspace, _d.name == name)
    ).first()
    if row is None:
        raise not_found(name)
    return row


def _version_row(conn: Connection, dataset_id: str, number: int) -> Any:
    return conn.execute(
        select(dataset_versions).where(_v.dataset_id == dataset_id, _v.version == number)
    ).first()


def _dataset(row: Mapping[str, Any]) -> Dataset:
    return Dataset(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        latest_version=row["latest_version"],
        created_time=row["created_time"],
        updated_time=row["updated_time"],
        created_by=row["created_by"],
    )


def _version(name: str, row: Mapping[str, Any]) -> DatasetVersion:
    return DatasetVersion(
        dataset=name,
        version=row["version"],
        manifest_digest=row["manifest_digest"],
        files=row["files"],
        bytes=row["bytes"],
        kind=DatasetKind(row["kind"]),
        message=row["message"],
        source=json.loads(row["source"]),
        created_time=row["created_time"],
        created_by=row["created_by"],
        run_id=row["run_id"],
    )
