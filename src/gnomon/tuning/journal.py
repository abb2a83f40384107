"""A study's journal as Optuna's journal backend: ``JournalStorage`` over ``client.tuning``.

Optuna's ``JournalStorage`` keeps a study's state by replaying an append-only log of
operations; every worker (a process here, a Ray task, a remote machine) appends to the same
log and reads what the others appended, and the log's single order is what hands out trial
numbers without gaps or repeats. The log lives in gnomon's database (the journal table),
scoped to the workspace, reached through ``client.tuning`` in both modes. Snapshots are left
out on purpose: Optuna's are pickles, and a pickle read back from a shared store could run
code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from optuna.storages.journal import BaseJournalBackend, JournalStorage

from gnomon.errors import InvalidInput
from gnomon.tuning.api import MAX_LOGS_PER_APPEND, MAX_LOGS_PER_READ, TuningApi
from gnomon.tuning.space import MAX_PARAMS


class StudyJournal(BaseJournalBackend):
    """One study's journal. Reads page through it; appends go in batches of at most
    ``MAX_LOGS_PER_APPEND``, in order."""

    def __init__(self, tuning: TuningApi, study_id: str) -> None:
        self.tuning, self.study_id = tuning, study_id

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        start, found = log_number_from, []
        while True:
            page = self.tuning.read_logs(self.study_id, start, MAX_LOGS_PER_READ)
            found.extend(page)
            if len(page) < MAX_LOGS_PER_READ:
                return found
            start += len(page)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        for at in range(0, len(logs), MAX_LOGS_PER_APPEND):
            self.tuning.append_logs(self.study_id, logs[at : at + MAX_LOGS_PER_APPEND])


class CheckedJournal(StudyJournal):
    """The journal, refused before Optuna replays it when it names more parameters than any
    space may: each new name makes the replay scan every earlier trial."""

    def __init__(self, tuning: TuningApi, study_id: str) -> None:
        super().__init__(tuning, study_id)
        self.names: set[str] = set()

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        logs = list(super().read_logs(log_number_from))
        for log in logs:
            name = log.get("param_name") if isinstance(log, dict) else None
            if isinstance(name, str):
                self.names.add(name)
        if len(self.names) > MAX_PARAMS:
            raise InvalidInput(
                f"the study's trials name {len(self.names):,} parameters; a space has at "
                f"most {MAX_PARAMS}"
            )
        return logs


def storage(tuning: TuningApi, study_id: str) -> JournalStorage:
    return JournalStorage(StudyJournal(tuning, study_id))
