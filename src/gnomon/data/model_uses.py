"""The models side of ``gnomon data used-by``: which registered model versions came from
which runs. The registry provides it; the data service asks the service registry for it the
first time ``used_by`` needs it, so building either capability never builds the other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gnomon._types import Scope
    from gnomon.data.entities import ModelUse


class ModelsOfRuns(Protocol):
    def __call__(self, scope: Scope, run_ids: Sequence[str]) -> list[ModelUse]: ...
