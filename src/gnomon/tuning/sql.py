"""SqlTuningStore: studies and their journals in the metadata database.

Appends to one journal are serialised by a lock on the study's row (SQLite's writes are
serialised anyway), so the numbers they take are handed out in commit order: a reader that
has read up to N never later finds a log below N appear."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import RowMapping, delete, func, insert, select, update

from gnomon._types import Scope, new_id, now_ms
from gnomon.errors import AlreadyExists, NotFound, PayloadTooLarge
from gnomon.store.database import Database
from gnomon.tuning.api import MAX_STUDY_LOGS
from gnomon.tuning.entities import Study
from gnomon.tuning.tables import tuning_journal, tuning_studies

_s = tuning_studies.c
_j = tuning_journal.c
ID_LENGTH = 32


class SqlTuningStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        scope: Scope,
        name: str,
        directions: Sequence[str],
        settings: dict[str, Any],
        experiment_id: str | None,
        run_id: str | None,
    ) -> Study:
        now = now_ms()
        row = {
            "id": new_id(),
            "workspace_id": scope.workspace,
            "name": name,
            "directions": orjson.dumps(list(directions)).decode(),
            "settings": orjson.dumps(settings).decode(),
            "experiment_id": experiment_id,
            "run_id": run_id,
            "logs": 0,
            "created_time": now,
            "created_by": scope.principal,
            "updated_time": now,
        }
        try:
            with self.db.write() as conn:
                conn.execute(insert(tuning_studies).values(**row))
        except AlreadyExists:
            raise AlreadyExists(f"study {name!r} already exists", {"study": name}) from None
        return _study(row)

    def get(self, scope: Scope, study: str) -> Study:
        """By id, then by name."""
        where = _s.workspace_id == scope.workspace
        with self.db.read() as conn:
            found = None
            if len(study) == ID_LENGTH:
                found = conn.execute(select(tuning_studies).where(where, _s.id == study)).first()
            if found is None:
                found = conn.execute(select(tuning_studies).where(where, _s.name == study)).first()
        if found is None:
            raise NotFound(f"no study {study!r}", {"study": study})
        return _study(found._mapping)

    def list(self, scope: Scope, limit: int) -> list[Study]:
        query = (
            select(tuning_studies)
            .where(_s.workspace_id == scope.workspace)
            .order_by(_s.created_time.desc(), _s.id)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [_study(row._mapping) for row in conn.execute(query)]

    def delete(self, scope: Scope, study: Study) -> None:
        with self.db.write() as conn:
            # the study's row first, as appends lock it: a racing append waits, then finds
            # no study, instead of adding a journal row under a study being deleted
            conn.execute(update(tuning_studies).where(_s.id == study.id).values(logs=_s.logs))
            conn.execute(delete(tuning_journal).where(_j.study_id == study.id))
            conn.execute(
                delete(tuning_studies).where(_s.id == study.id, _s.workspace_id == scope.workspace)
            )

    def append(self, scope: Scope, study_id: str, logs: Sequence[bytes]) -> int:
        with self.db.write() as conn:
            # one statement takes the numbers and locks the study's row until commit
            last = conn.execute(
                update(tuning_studies)
                .where(_s.id == study_id, _s.workspace_id == scope.workspace)
                .values(logs=_s.logs + len(logs), updated_time=now_ms())
                .returning(_s.logs)
            ).scalar()
            if last is None:
                raise NotFound(f"no study with id {study_id!r}", {"study": study_id})
            first = int(last) - len(logs)
            if last > MAX_STUDY_LOGS:
                raise PayloadTooLarge(
                    f"study {study_id!r} holds {first} journal entries; at most "
                    f"{MAX_STUDY_LOGS} are kept: start a new study"
                )
            rows = [
                {"study_id": study_id, "seq": first + i, "log": log.decode()}
                for i, log in enumerate(logs)
            ]
            conn.execute(insert(tuning_journal), rows)
        return first

    def journal_bytes(self, scope: Scope, study_id: str) -> int:
        """The size of a study's journal entries, summed in the database."""
        query = (
            select(func.coalesce(func.sum(func.length(_j.log)), 0))
            .join(tuning_studies, _s.id == _j.study_id)
            .where(_j.study_id == study_id, _s.workspace_id == scope.workspace)
        )
        with self.db.read() as conn:
            return int(conn.execute(query).scalar() or 0)

    def read(self, scope: Scope, study_id: str, start: int, limit: int) -> list[Any]:
        # one query: the study's row, with each log from ``start`` on (one null: none yet)
        query = (
            select(_j.log)
            .select_from(
                tuning_studies.outerjoin(tuning_journal, (_j.study_id == _s.id) & (_j.seq >= start))
            )
            .where(_s.id == study_id, _s.workspace_id == scope.workspace)
            .order_by(_j.seq)
            .limit(limit)
        )
        with self.db.read() as conn:
            found = conn.execute(query).scalars().all()
        if not found:
            raise NotFound(f"no study with id {study_id!r}", {"study": study_id})
        return [orjson.loads(text) for text in found if text is not None]


def _study(row: RowMapping | dict[str, Any]) -> Study:
    return Study(
        id=row["id"],
        name=row["name"],
        directions=tuple(orjson.loads(row["directions"])),
        settings=orjson.loads(row["settings"]),
        experiment_id=row["experiment_id"],
        run_id=row["run_id"],
        logs=int(row["logs"]),
        created_time=int(row["created_time"]),
        created_by=row["created_by"],
        updated_time=int(row["updated_time"]),
    )
