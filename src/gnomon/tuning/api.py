"""``client.tuning``: the contract both modes keep (embedded over SQL, remote over HTTP).

A study's journal is Optuna's own log of operations: ``append_logs`` adds to its end in one
transaction (the numbers it takes are the order every reader replays), ``read_logs`` reads
from a number on. Optuna's ``JournalStorage`` replays it (``journal.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from gnomon.tuning.entities import Study

MAX_LOGS_PER_APPEND = 1000
MAX_LOGS_PER_READ = 1000
MAX_LOG_BYTES = 16 * 1024  # one operation: a trial's params and attributes (a read: 16 MiB)
MAX_STUDY_LOGS = 1_000_000  # a study's whole journal: about 100,000 trials
MAX_SETTINGS_BYTES = 64 * 1024


class TuningApi(Protocol):
    def create_study(
        self,
        name: str,
        directions: Sequence[str],
        *,
        settings: dict[str, Any] | None = None,
        experiment_id: str | None = None,
        run_id: str | None = None,
    ) -> Study:
        """Raises AlreadyExists when the workspace has a study of that name."""
        ...

    def get_study(self, study: str) -> Study:
        """By id or name. Raises NotFound."""
        ...

    def list_studies(self, limit: int = 100) -> list[Study]:
        """Newest first."""
        ...

    def delete_study(self, study: str) -> None:
        """The study and its journal (its runs stay in tracking). Raises NotFound."""
        ...

    def append_logs(self, study_id: str, logs: Sequence[dict[str, Any]]) -> int:
        """Adds ``logs`` at the journal's end, in order; returns the number of the first.

        Raises:
            InvalidInput: a log is not a JSON object, or too large; too many at once.
            PayloadTooLarge: the journal would pass MAX_STUDY_LOGS.
            NotFound: no such study in the workspace.
        """
        ...

    def read_logs(self, study_id: str, start: int, limit: int = MAX_LOGS_PER_READ) -> list[Any]:
        """Logs numbered ``start`` on, at most ``limit``. Raises NotFound."""
        ...
