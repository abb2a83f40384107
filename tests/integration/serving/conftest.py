from __future__ import annotations

import pytest

from gnomon.modelfolder import LoadedModel
from tests.integration.serving.small_server import save_small_model


@pytest.fixture(scope="session")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """A linear regression on four float columns (see small_server), saved once a session."""
    return save_small_model(str(tmp_path_factory.mktemp("small-model") / "model"))
