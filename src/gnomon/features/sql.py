"""SqlFeatureStore: feature definitions and their versions in the metadata database. An apply
is one transaction: every new version and removal lands together or not at all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, and_, delete, func, select, update

from gnomon._types import Scope, now_ms
from gnomon.errors import AlreadyExists, Conflict
from gnomon.features.entities import AppliedDefinition, DefinitionVersion, Kind, Writes
from gnomon.features.tables import feature_definition_versions, feature_definitions
from gnomon.store.database import Database

_d = feature_definitions.c
_v = feature_definition_versions.c
RACED = "the feature definitions changed while this apply ran (another apply?): apply again"


def dump(spec: Mapping[str, Any]) -> str:
    return orjson.dumps(spec, option=orjson.OPT_SORT_KEYS).decode()


class SqlFeatureStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def current(self, scope: Scope, kind: Kind | None = None) -> list[AppliedDefinition]:
        """Every live definition of the workspace (of ``kind``), by kind then name."""
        query = select(feature_definitions).where(_d.workspace_id == scope.workspace)
        if kind is not None:
            query = query.where(_d.kind == kind)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(_d.kind, _d.name))
            return [_applied(row._mapping) for row in rows]

    def named(self, scope: Scope, name: str) -> list[AppliedDefinition]:
        """The live definitions called ``name``, of any kind."""
        query = select(feature_definitions).where(
            _d.workspace_id == scope.workspace, _d.name == name
        )
        with self.db.read() as conn:
            return [_applied(row._mapping) for row in conn.execute(query.order_by(_d.kind))]

    def versions(self, scope: Scope, kind: Kind, name: str, limit: int) -> list[DefinitionVersion]:
        """The newest ``limit`` versions of a definition, newest first (of removed ones too)."""
        query = (
            select(feature_definition_versions)
            .where(_v.workspace_id == scope.workspace, _v.kind == kind, _v.name == name)
            .order_by(_v.version.desc())
            .limit(limit)
        )
        with self.db.read() as conn:
            return [_version(row._mapping) for row in conn.execute(query)]

    def last_versions(self, scope: Scope) -> dict[tuple[str, str], int]:
        """(kind, name) → its highest version ever, removed definitions included."""
        query = (
            select(_v.kind, _v.name, func.max(_v.version))
            .where(_v.workspace_id == scope.workspace)
            .group_by(_v.kind, _v.name)
        )
        with self.db.read() as conn:
            return {(kind, name): top for kind, name, top in conn.execute(query)}

    def write(self, scope: Scope, writes: Writes) -> None:
        """Writes an apply's versions and removals in one transaction.

        Raises:
            Conflict: the current definitions are no longer those the apply was planned on.
        """
        try:
            with self.db.write() as conn:
                if _live(conn, scope) != writes.based_on:
                    raise Conflict(RACED)
                _write(conn, scope, writes)
        except AlreadyExists:  # a version inserted meanwhile (PostgreSQL does not serialise)
            raise Conflict(RACED) from None


def _live(conn: Connection, scope: Scope) -> frozenset[tuple[str, str, int]]:
    query = select(_d.kind, _d.name, _d.version).where(_d.workspace_id == scope.workspace)
    return frozenset((kind, name, version) for kind, name, version in conn.execute(query))


def _write(conn: Connection, scope: Scope, writes: Writes) -> None:
    now = now_ms()
    live = {(kind, name) for kind, name, _ in writes.based_on}
    for new in writes.versions:
        spec = dump(new.spec)
        conn.execute(
            feature_definition_versions.insert().values(
                workspace_id=scope.workspace,
                kind=new.kind,
                name=new.name,
                version=new.version,
                spec=spec,
                digest=new.digest,
                created_time=now,
                created_by=scope.principal,
            )
        )
        values = {
            "version": new.version,
            "spec": spec,
            "digest": new.digest,
            "updated_time": now,
            "updated_by": scope.principal,
        }
        if (new.kind, new.name) in live:
            conn.execute(update(feature_definitions).where(_key(scope, new.kind, new.name)), values)
        else:
            conn.execute(
                feature_definitions.insert().values(
                    workspace_id=scope.workspace,
                    kind=new.kind,
                    name=new.name,
                    created_time=now,
                    **values,
                )
            )
    for kind, name in writes.removals:
        conn.execute(delete(feature_definitions).where(_key(scope, kind, name)))


def _key(scope: Scope, kind: str, name: str) -> Any:
    return and_(_d.workspace_id == scope.workspace, _d.kind == kind, _d.name == name)


def _applied(row: RowMapping) -> AppliedDefinition:
    return AppliedDefinition(
        kind=row["kind"],
        name=row["name"],
        version=row["version"],
        spec=orjson.loads(row["spec"]),
        digest=row["digest"],
        created_time=row["created_time"],
        updated_time=row["updated_time"],
        updated_by=row["updated_by"],
    )


def _version(row: RowMapping) -> DefinitionVersion:
    return DefinitionVersion(
        kind=row["kind"],
        name=row["name"],
        version=row["version"],
        spec=orjson.loads(row["spec"]),
        digest=row["digest"],
        created_time=row["created_time"],
        created_by=row["created_by"],
    )
