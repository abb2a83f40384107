"""The tuning wire: studies, and journal entries (Optuna's operations, JSON objects)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Len, MaxLen
from pydantic import Field

from gnomon.tuning.api import MAX_LOGS_PER_APPEND
from gnomon.tuning.entities import Study
from gnomon.tuning.service import MAX_OBJECTIVES
from gnomon.tuning.tables import NAME_LENGTH
from gnomon.wire import Text, Wire, WireJson

Name = Annotated[Text, Len(1, NAME_LENGTH)]
Id = Annotated[Text, MaxLen(32)]
Key = Annotated[Text, MaxLen(256)]  # a setting's or a journal entry's field name


class StudyIn(Wire):
    name: Name
    directions: Annotated[list[Literal["minimize", "maximize"]], Len(1, MAX_OBJECTIVES)]
    settings: Annotated[dict[Key, WireJson], MaxLen(64)] = Field(default_factory=dict)
    experiment_id: Id | None = None
    run_id: Id | None = None


class StudyOut(Wire):
    id: str
    name: str
    directions: list[str]
    settings: dict[str, Any]
    experiment_id: str | None
    run_id: str | None
    logs: int
    created_time: int
    created_by: str
    updated_time: int

    @classmethod
    def of(cls, study: Study) -> StudyOut:
        return cls(
            id=study.id,
            name=study.name,
            directions=list(study.directions),
            settings=study.settings,
            experiment_id=study.experiment_id,
            run_id=study.run_id,
            logs=study.logs,
            created_time=study.created_time,
            created_by=study.created_by,
            updated_time=study.updated_time,
        )

    def entity(self) -> Study:
        return Study(
            id=self.id,
            name=self.name,
            directions=tuple(self.directions),
            settings=self.settings,
            experiment_id=self.experiment_id,
            run_id=self.run_id,
            logs=self.logs,
            created_time=self.created_time,
            created_by=self.created_by,
            updated_time=self.updated_time,
        )


class LogsIn(Wire):
    logs: Annotated[list[Annotated[dict[Key, WireJson], MaxLen(64)]], Len(1, MAX_LOGS_PER_APPEND)]


class Appended(Wire):
    first: int  # the number the first log took


class LogsOut(Wire):
    logs: list[dict[str, Any]]
