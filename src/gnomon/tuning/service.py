"""TuningService: studies and journals, checked. What a client sends is bounded here (names,
settings, each log's size and count, the journal's length) for both modes alike; the logs
themselves are Optuna's business and are stored as the JSON objects they are."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import orjson

from gnomon._types import Scope
from gnomon.checks import not_dots, shown, storable
from gnomon.errors import InvalidInput
from gnomon.tuning.api import (
    MAX_LOG_BYTES,
    MAX_LOGS_PER_APPEND,
    MAX_LOGS_PER_READ,
    MAX_SETTINGS_BYTES,
)
from gnomon.tuning.entities import DIRECTIONS, Study
from gnomon.tuning.sql import SqlTuningStore
from gnomon.tuning.tables import NAME_LENGTH

MAX_LIST = 1000
# Optuna's JournalOperation codes (create study ... set trial system attr): anything else
# would stop every reader's replay of the study
OPERATIONS = range(0, 11)
MAX_OBJECTIVES = 16


class TuningService:
    def __init__(self, store: SqlTuningStore) -> None:
        self.store = store

    def create_study(
        self,
        scope: Scope,
        name: str,
        directions: Sequence[str],
        *,
        settings: dict[str, Any] | None = None,
        experiment_id: str | None = None,
        run_id: str | None = None,
    ) -> Study:
        name = study_name(name)
        checked = check_directions(directions)
        settings = dict(settings or {})
        try:
            size = len(orjson.dumps(settings))
        except TypeError as exc:
            raise InvalidInput(f"study settings must be JSON: {exc}") from None
        if size > MAX_SETTINGS_BYTES:
            raise InvalidInput(f"study settings are {size} bytes; at most {MAX_SETTINGS_BYTES}")
        for what, value in (("experiment_id", experiment_id), ("run_id", run_id)):
            if value is not None and (not isinstance(value, str) or len(value) > 32):
                raise InvalidInput(f"{what} must be a run or experiment id, got {shown(value)}")
        return self.store.create(scope, name, checked, settings, experiment_id, run_id)

    def get_study(self, scope: Scope, study: str) -> Study:
        return self.store.get(scope, _ref(study))

    def list_studies(self, scope: Scope, limit: int = 100) -> list[Study]:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"limit must be an integer from 1 to {MAX_LIST}, got {shown(limit)}")
        return self.store.list(scope, limit)

    def delete_study(self, scope: Scope, study: str) -> None:
        self.store.delete(scope, self.store.get(scope, _ref(study)))

    def append_logs(self, scope: Scope, study_id: str, logs: Sequence[Any]) -> int:
        if not isinstance(logs, list | tuple) or not 1 <= len(logs) <= MAX_LOGS_PER_APPEND:
            raise InvalidInput(f"logs must be a list of 1 to {MAX_LOGS_PER_APPEND} JSON objects")
        encoded = []
        for number, log in enumerate(logs):
            op = log.get("op_code") if isinstance(log, dict) else None
            if isinstance(op, bool) or not isinstance(op, int) or op not in OPERATIONS:
                raise InvalidInput(f"log {number} is not an Optuna journal operation")
            if not _finite(log):
                raise InvalidInput(f"log {number} holds a number JSON cannot carry (NaN, inf)")
            try:
                text = orjson.dumps(log)
            except TypeError as exc:
                raise InvalidInput(f"log {number} is not JSON: {exc}") from None
            if len(text) > MAX_LOG_BYTES:
                raise InvalidInput(f"log {number} is {len(text)} bytes; at most {MAX_LOG_BYTES}")
            storable(f"log {number}", text.decode())
            encoded.append(text)
        return self.store.append(scope, _ref(study_id), encoded)

    def read_logs(
        self, scope: Scope, study_id: str, start: int, limit: int = MAX_LOGS_PER_READ
    ) -> list[Any]:
        for what, value, top in (("start", start, 2**62), ("limit", limit, MAX_LOGS_PER_READ)):
            low = 0 if what == "start" else 1
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
                raise InvalidInput(f"{what} must be an integer from {low} to {top}")
        return self.store.read(scope, _ref(study_id), start, limit)


MAX_SHOWN_BYTES = 64 * 1024 * 1024  # a journal the server replays to show it


def check_showable(service: TuningService, scope: Scope, study: Study) -> None:
    """InvalidInput when the server should not replay ``study`` to show it (its memory)."""
    size = service.store.journal_bytes(scope, study.id)
    if size > MAX_SHOWN_BYTES:
        raise InvalidInput(
            f"study {study.name!r}'s journal is {size // 2**20} MiB; the server shows studies "
            f"of at most {MAX_SHOWN_BYTES // 2**20} MiB: run gnomon tune show on your machine"
        )


def _finite(value: Any, depth: int = 0) -> bool:
    """No NaN or infinity anywhere in ``value`` (orjson would store them as null)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if depth > 32:
        return True  # orjson refuses what nests deeper
    if isinstance(value, dict):
        return all(_finite(v, depth + 1) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v, depth + 1) for v in value)
    return True


def study_name(name: object) -> str:
    """A study's name: 1 to NAME_LENGTH characters, no slash (it travels in URL paths)."""
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise InvalidInput(
            f"a study name must be a non-empty string without outer spaces, got {shown(name)}"
        )
    if len(name) > NAME_LENGTH or "/" in name:
        raise InvalidInput(
            f"study name {shown(name)} must be at most {NAME_LENGTH} characters, without '/'"
        )
    return not_dots("study name", storable("study name", name))


def check_directions(directions: object) -> tuple[str, ...]:
    if isinstance(directions, str):
        directions = (directions,)
    if not isinstance(directions, list | tuple) or not 1 <= len(directions) <= MAX_OBJECTIVES:
        raise InvalidInput(f"directions must be a list of 1 to {MAX_OBJECTIVES} directions")
    wrong = [d for d in directions if d not in DIRECTIONS]
    if wrong:
        raise InvalidInput(
            f"direction {shown(wrong[0])} is not 'minimize' or 'maximize'", {"field": "direction"}
        )
    return tuple(directions)


def _ref(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > NAME_LENGTH:
        raise InvalidInput(f"a study is named by its id or name, got {shown(value)}")
    return value
