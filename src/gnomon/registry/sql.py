"""SqlRegistryStore: the registry store over SQLite or PostgreSQL (SQLAlchemy Core)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, exists, func, select, update

from gnomon._types import Page, Scope, new_id, now_ms
from gnomon.errors import AlreadyExists, Conflict, NotFound
from gnomon.registry.entities import (
    AliasEvent,
    ModelQuery,
    ModelVersion,
    NewVersion,
    RegisteredModel,
    VersionQuery,
    VersionStatus,
    VersionUpdate,
)
from gnomon.registry.sql_logged import SqlLoggedModels
from gnomon.registry.tables import (
    alias_events,
    model_aliases,
    model_tags,
    model_versions,
    registered_models,
    version_tags,
)
from gnomon.store.database import Database, insert_for
from gnomon.store.paging import fetch_page

_models = registered_models.c
_versions = model_versions.c


class SqlRegistryStore(SqlLoggedModels):
    """Registry store in the metadata database; every method is one transaction.

    Writes that number versions or move aliases lock the model row first (``SELECT … FOR
    UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the database's write
    lock), so they are serialised per model and read-then-write is safe.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = insert_for(db)

    # -- models ------------------------------------------------------------------------------

    def create_model(
        self, scope: Scope, name: str, description: str, tags: Mapping[str, str]
    ) -> RegisteredModel:
        model_id = new_id()
        now = now_ms()
        with self.db.write() as conn:
            taken = conn.execute(
                select(_models.id).where(
                    _models.workspace_id == scope.workspace, _models.name == name
                )
            ).first()
            if taken is not None:
                raise AlreadyExists(f"registered model {name!r} already exists")
            conn.execute(
                registered_models.insert().values(
                    id=model_id,
                    workspace_id=scope.workspace,
                    name=name,
                    description=description,
                    last_version=0,
                    created_time=now,
                    updated_time=now,
                )
            )
            if tags:
                conn.execute(model_tags.insert(), _tag_rows({"model_id": model_id}, tags))
        return RegisteredModel(
            id=model_id,
            workspace_id=scope.workspace,
            name=name,
            description=description,
            created_time=now,
            updated_time=now,
            tags=dict(tags),
        )

    def get_model(self, scope: Scope, name: str) -> RegisteredModel:
        with self.db.read() as conn:
            return self._load_models(conn, [self._model_row(conn, scope, name)])[0]

    def search_models(self, scope: Scope, query: ModelQuery) -> Page[RegisteredModel]:
        statement = select(registered_models).where(_models.workspace_id == scope.workspace)
        if query.name_like is not None:
            statement = statement.where(_models.name.ilike(query.name_like))
        for key, value in query.tags.items():
            statement = statement.where(
                exists().where(
                    model_tags.c.model_id == _models.id,
                    model_tags.c.key == key,
                    model_tags.c.value == value,
                )
            )
        statement = statement.order_by(_models.name)
        with self.db.read() as conn:
            rows, token = fetch_page(conn, statement, query.max_results, query.page_token)
            return Page(self._load_models(conn, rows), token)

    def update_model(self, scope: Scope, name: str, description: str) -> RegisteredModel:
        now = now_ms()
        with self.db.write() as conn:
            model = self._load_models(conn, [self._model_row(conn, scope, name)])[0]
            conn.execute(
                update(registered_models)
                .where(_models.id == model.id)
                .values(description=description, updated_time=now)
            )
        return replace(model, description=description, updated_time=now)

    def set_model_tag(self, scope: Scope, name: str, key: str, value: str) -> None:
        with self.db.write() as conn:
            row = self._model_row(conn, scope, name)
            self._upsert_tag(conn, model_tags, {"model_id": row.id}, key, value)

    def delete_model_tag(self, scope: Scope, name: str, key: str) -> None:
        with self.db.write() as conn:
            row = self._model_row(conn, scope, name)
            gone = conn.execute(
                delete(model_tags).where(model_tags.c.model_id == row.id, model_tags.c.key == key)
            )
            if gone.rowcount == 0:
                raise NotFound(f"registered model {name!r} has no tag {key!r}")

    def delete_model(self, scope: Scope, name: str) -> None:
        with self.db.write() as conn:
            row = self._model_row(conn, scope, name, lock=True)
            count = conn.execute(
                select(func.count()).select_from(model_versions).where(_versions.model_id == row.id)
            ).scalar_one()
            if count:
                raise Conflict(
                    f"registered model {name!r} still has {count} version(s); delete them first",
                    {"model": name, "versions": count},
                )
            for table in (alias_events, model_tags):
                conn.execute(delete(table).where(table.c.model_id == row.id))
            conn.execute(delete(registered_models).where(_models.id == row.id))

    # -- versions ----------------------------------------------------------------------------

    def create_version(self, scope: Scope, name: str, new: NewVersion) -> ModelVersion:
        now = now_ms()
        with self.db.write() as conn:
            # The lock makes max+1 safe: a second registration waits here until this one
            # commits, then reads the number it wrote. The primary key is the backstop.
            row = self._model_row(conn, scope, name, lock=True)
            number = row.last_version + 1
            conn.execute(
                update(registered_models)
                .where(_models.id == row.id)
                .values(last_version=number, updated_time=now)
            )
            values: dict[str, Any] = {
                "model_id": row.id,
                "version": number,
                "source": new.source,
                "run_id": new.run_id,
                "storage_uri": new.storage_uri,
                "status": VersionStatus.READY.value,
                "flavor": new.flavor,
                "description": new.description,
                "created_by": new.created_by,
                "created_time": now,
                "updated_time": now,
                "files": None if new.spec_sha256 is None else json.dumps(new.files),
                "spec_sha256": new.spec_sha256,
            }
            conn.execute(model_versions.insert().values(**values))
            if new.tags:
                key = {"model_id": row.id, "version": number}
                conn.execute(version_tags.insert(), _tag_rows(key, new.tags))
        return _to_version(values, name, dict(new.tags), [])

    def get_version(self, scope: Scope, name: str, version: int) -> ModelVersion:
        with self.db.read() as conn:
            model = self._model_row(conn, scope, name)
            return self._version(conn, model, version)

    def search_versions(self, scope: Scope, query: VersionQuery) -> Page[ModelVersion]:
        statement = _versions_select().where(_models.workspace_id == scope.workspace)
        if query.model_name is not None:
            statement = statement.where(_models.name == query.model_name)
        if query.run_id is not None:
            statement = statement.where(_versions.run_id == query.run_id)
        if query.status is not None:
            statement = statement.where(_versions.status == query.status.value)
        for key, value in query.tags.items():
            statement = statement.where(
                exists().where(
                    version_tags.c.model_id == _versions.model_id,
                    version_tags.c.version == _versions.version,
                    version_tags.c.key == key,
                    version_tags.c.value == value,
                )
            )
        statement = statement.order_by(_models.name, _versions.version.desc())
        with self.db.read() as conn:
            rows, token = fetch_page(conn, statement, query.max_results, query.page_token)
            return Page(self._load_versions(conn, rows), token)

    def update_version(
        self, scope: Scope, name: str, version: int, update_: VersionUpdate
    ) -> ModelVersion:
        values: dict[str, Any] = {}
        if update_.description is not None:
            values["description"] = update_.description
        if update_.status is not None:
            values["status"] = update_.status.value
        if update_.spec_sha256 is not None:
            values["spec_sha256"] = update_.spec_sha256
        with self.db.write() as conn:
            model = self._model_row(conn, scope, name)
            found = self._version(conn, model, version)
            if not values:
                return found
            now = now_ms()
            written = conn.execute(
                update(model_versions)
                .where(_versions.model_id == model.id, _versions.version == version)
                .where(*_unchanged_spec(update_))
                .values(**values, updated_time=now)
            )
            if written.rowcount == 0:
                raise Conflict(
                    f"version {version} of registered model {name!r} changed meanwhile; retry",
                    {"model": name, "version": version},
                )
        # What was written is known: no need to read the version back.
        description = found.description if update_.description is None else update_.description
        return replace(
            found,
            description=description,
            status=update_.status or found.status,
            spec_sha256=update_.spec_sha256 or found.spec_sha256,
            updated_time=now,
        )

    def set_version_tag(self, scope: Scope, name: str, version: int, key: str, value: str) -> None:
        with self.db.write() as conn:
            model = self._model_row(conn, scope, name)
            self._version(conn, model, version)
            self._upsert_tag(
                conn, version_tags, {"model_id": model.id, "version": version}, key, value
            )

    def delete_version_tag(self, scope: Scope, name: str, version: int, key: str) -> None:
        with self.db.write() as conn:
            model = self._model_row(conn, scope, name)
            self._version(conn, model, version)
            gone = conn.execute(
                delete(version_tags).where(
                    version_tags.c.model_id == model.id,
                    version_tags.c.version == version,
                    version_tags.c.key == key,
                )
            )
            if gone.rowcount == 0:
                raise NotFound(f"version {version} of model {name!r} has no tag {key!r}")

    def delete_version(self, scope: Scope, name: str, version: int, actor: str) -> None:
        with self.db.write() as conn:
            model = self._model_row(conn, scope, name, lock=True)
            self._version(conn, model, version)
            pointing = conn.execute(
                select(model_aliases.c.alias).where(
                    model_aliases.c.model_id == model.id, model_aliases.c.version == version
                )
            ).scalars()
            now = now_ms()
            for alias in list(pointing):
                conn.execute(
                    delete(model_aliases).where(
                        model_aliases.c.model_id == model.id, model_aliases.c.alias == alias
                    )
                )
                self._record(conn, model.id, alias, None, version, actor, now)
            match = (version_tags.c.model_id == model.id, version_tags.c.version == version)
            conn.execute(delete(version_tags).where(*match))
            conn.execute(
                delete(model_versions).where(
                    _versions.model_id == model.id, _versions.version == version
                )
            )

    # -- aliases -----------------------------------------------------------------------------

    def set_alias(
        self, scope: Scope, name: str, alias: str, version: int, actor: str
    ) -> AliasEvent:
        with self.db.write() as conn:
            # Locked so two moves of one model cannot both read the same "previous".
            model = self._model_row(conn, scope, name, lock=True)
            self._version(conn, model, version)
            previous = self._alias_target(conn, model.id, alias)
            statement = self._insert(model_aliases).values(
                model_id=model.id, alias=alias, version=version
            )
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["model_id", "alias"], set_={"version": version}
                )
            )
            now = now_ms()
            self._record(conn, model.id, alias, version, previous, actor, now)
        return AliasEvent(name, alias, version, previous, actor, now)

    def delete_alias(self, scope: Scope, name: str, alias: str, actor: str) -> AliasEvent:
        with self.db.write() as conn:
            model = self._model_row(conn, scope, name, lock=True)
            previous = self._alias_target(conn, model.id, alias)
            if previous is None:
                raise NotFound(f"registered model {name!r} has no alias {alias!r}")
            conn.execute(
                delete(model_aliases).where(
                    model_aliases.c.model_id == model.id, model_aliases.c.alias == alias
                )
            )
            now = now_ms()
            self._record(conn, model.id, alias, None, previous, actor, now)
        return AliasEvent(name, alias, None, previous, actor, now)

    def get_version_by_alias(self, scope: Scope, name: str, alias: str) -> ModelVersion:
        # One statement from alias to version: a concurrent move is seen before or after,
        # never half-way.
        statement = (
            _versions_select()
            .join(
                model_aliases,
                (model_aliases.c.model_id == _versions.model_id)
                & (model_aliases.c.version == _versions.version),
            )
            .where(
                _models.workspace_id == scope.workspace,
                _models.name == name,
                model_aliases.c.alias == alias,
            )
        )
        with self.db.read() as conn:
            row = conn.execute(statement).first()
            if row is None:
                self._model_row(conn, scope, name)
                raise NotFound(f"registered model {name!r} has no alias {alias!r}")
            return self._load_versions(conn, [row])[0]

    def list_alias_events(
        self, scope: Scope, name: str, alias: str | None = None
    ) -> list[AliasEvent]:
        with self.db.read() as conn:
            model = self._model_row(conn, scope, name)
            statement = select(alias_events).where(alias_events.c.model_id == model.id)
            if alias is not None:
                statement = statement.where(alias_events.c.alias == alias)
            rows = conn.execute(statement.order_by(alias_events.c.id)).all()
        return [AliasEvent(name, r.alias, r.version, r.previous, r.actor, r.time) for r in rows]

    # -- helpers -----------------------------------------------------------------------------

    def _model_row(self, conn: Connection, scope: Scope, name: str, lock: bool = False) -> Row[Any]:
        statement = select(registered_models).where(
            _models.workspace_id == scope.workspace, _models.name == name
        )
        if lock and not self.db.is_sqlite:
            statement = statement.with_for_update()
        row = conn.execute(statement).first()
        if row is None:
            raise NotFound(f"registered model {name!r} not found")
        return row

    def _version(self, conn: Connection, model: Row[Any], version: int) -> ModelVersion:
        row = conn.execute(
            _versions_select().where(_versions.model_id == model.id, _versions.version == version)
        ).first()
        if row is None:
            raise NotFound(f"version {version} of registered model {model.name!r} not found")
        return self._load_versions(conn, [row])[0]

    def _alias_target(self, conn: Connection, model_id: str, alias: str) -> int | None:
        target: int | None = conn.execute(
            select(model_aliases.c.version).where(
                model_aliases.c.model_id == model_id, model_aliases.c.alias == alias
            )
        ).scalar()
        return target

    def _record(
        self,
        conn: Connection,
        model_id: str,
        alias: str,
        version: int | None,
        previous: int | None,
        actor: str,
        time: int,
    ) -> None:
        conn.execute(
            alias_events.insert().values(
                model_id=model_id,
                alias=alias,
                version=version,
                previous=previous,
                actor=actor,
                time=time,
            )
        )

    def _upsert_tag(
        self, conn: Connection, table: Any, key: dict[str, Any], tag: str, value: str
    ) -> None:
        statement = self._insert(table).values(**key, key=tag, value=value)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[*key, "key"], set_={"value": statement.excluded.value}
            )
        )

    def _load_models(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
        """Attach tags, aliases and the latest version with one query each."""
        if not rows:
            return []
        ids = [row.id for row in rows]
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        aliases: dict[str, dict[str, int]] = {i: {} for i in ids}
        tag_query = select(model_tags).where(model_tags.c.model_id.in_(ids))
        for tag in conn.execute(tag_query):
            tags[tag.model_id][tag.key] = tag.value
        alias_query = select(model_aliases).where(model_aliases.c.model_id.in_(ids))
        for alias in conn.execute(alias_query.order_by(model_aliases.c.alias)):
            aliases[alias.model_id][alias.alias] = alias.version
        latest = dict(
            conn.execute(
                select(_versions.model_id, func.max(_versions.version))
                .where(_versions.model_id.in_(ids))
                .group_by(_versions.model_id)
            ).all()
        )
        return [
            RegisteredModel(
                id=row.id,
                workspace_id=row.workspace_id,
                name=row.name,
                description=row.description,
                created_time=row.created_time,
                updated_time=row.updated_time,
                tags=tags[row.id],
                latest_version=latest.get(row.id),
                aliases=aliases[row.id],
            )
            for row in rows
        ]

    def _load_versions(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[ModelVersion]:
        """Attach tags and aliases with one query each; rows come from ``_versions_select``."""
        if not rows:
            return []
        model_ids = list({row.model_id for row in rows})
        tags: dict[tuple[str, int], dict[str, str]] = {}
        aliases: dict[tuple[str, int], list[str]] = {}
        numbers = list({row.version for row in rows})
        tag_query = select(version_tags).where(
            version_tags.c.model_id.in_(model_ids), version_tags.c.version.in_(numbers)
        )
        wanted = {(row.model_id, row.version) for row in rows}
        for tag in conn.execute(tag_query):
            if (tag.model_id, tag.version) in wanted:
                tags.setdefault((tag.model_id, tag.version), {})[tag.key] = tag.value
        alias_query = select(model_aliases).where(model_aliases.c.model_id.in_(model_ids))
        for alias in conn.execute(alias_query.order_by(model_aliases.c.alias)):
            aliases.setdefault((alias.model_id, alias.version), []).append(alias.alias)
        return [
            _to_version(
                row._mapping,
                row.model_name,
                tags.get((row.model_id, row.version), {}),
                aliases.get((row.model_id, row.version), []),
            )
            for row in rows
        ]


def _versions_select() -> Select[Any]:
    return select(model_versions, _models.name.label("model_name")).join(
        registered_models, _models.id == _versions.model_id
    )


def _unchanged_spec(update_: VersionUpdate) -> list[Any]:
    """The compare half of compare-and-set on the recorded YAML digest."""
    if update_.spec_sha256 is None:
        return []
    return [_versions.spec_sha256 == update_.previous_spec_sha256]


def _tag_rows(key: dict[str, Any], tags: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{**key, "key": k, "value": v} for k, v in tags.items()]


def _to_version(
    values: Mapping[Any, Any], model_name: str, tags: dict[str, str], aliases: list[str]
) -> ModelVersion:
    return ModelVersion(
        model_name=model_name,
        version=values["version"],
        source=values["source"],
        run_id=values["run_id"],
        storage_uri=values["storage_uri"],
        status=VersionStatus(values["status"]),
        flavor=values["flavor"],
        created_time=values["created_time"],
        created_by=values["created_by"],
        updated_time=values["updated_time"],
        description=values["description"],
        tags=tags,
        aliases=aliases,
        files=json.loads(values["files"]) if values["files"] else {},
        spec_sha256=values["spec_sha256"],
    )
