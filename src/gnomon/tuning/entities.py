"""What a tuning study is, as stored: its identity and settings. The trials themselves live
in the study's journal (Optuna's log) and in tracking, as runs nested under the study's run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True, slots=True)
class Study:
    """A study of one workspace. ``settings`` holds what it was started with (sampler,
    pruner, search space, objective), for people to read; ``logs`` counts its journal."""

    id: str
    name: str
    directions: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    experiment_id: str | None = None
    run_id: str | None = None
    logs: int = 0
    created_time: int = 0
    created_by: str = ""
    updated_time: int = 0

    @property
    def multi_objective(self) -> bool:
        return len(self.directions) > 1
