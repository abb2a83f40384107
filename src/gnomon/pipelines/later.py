"""Other capabilities' services that lineage reads, each looked up on its first use: a
pipeline's run needs none of them, and building them costs a process a tenth of a second."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gnomon.data.service import DatasetService
    from gnomon.registry.service import RegistryService


class DatasetsAndRegistry:
    """``datasets`` and ``registry``, found through the lookups a subclass stores."""

    _datasets: Callable[[], DatasetService | None]
    _registry: Callable[[], RegistryService]

    @property
    def datasets(self) -> DatasetService | None:
        return self._datasets()

    @property
    def registry(self) -> RegistryService:
        return self._registry()
