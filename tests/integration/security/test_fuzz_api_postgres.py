"""The API server's fuzz (``test_fuzz_api.py``) on PostgreSQL, which refuses values SQLite
stores: the same checks over valid and hostile requests, in a file of its own so that
``pytest --dist loadfile`` runs it beside the SQLite run instead of after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.server import serve, server_settings
from tests.integration.security.fuzz import Report
from tests.integration.security.test_fuzz_api import (  # the checks, run on this report
    fuzz_server,
    postgres_database,
    test_every_answer_has_its_documented_content_type_and_schema,
    test_every_status_answered_is_documented,
    test_no_request_gets_a_server_error,
    test_the_fuzzer_gets_past_authentication_and_lookups,
)

pytestmark = pytest.mark.postgres

__all__ = [
    "test_every_answer_has_its_documented_content_type_and_schema",
    "test_every_status_answered_is_documented",
    "test_no_request_gets_a_server_error",
    "test_the_fuzzer_gets_past_authentication_and_lookups",
]


@pytest.fixture(scope="module")
def report(postgres_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    """Over a server and a database of its own (``postgres_uri`` skips without PostgreSQL,
    or fails on CI)."""
    home: Path = tmp_path_factory.mktemp("fuzz-api-postgres")
    with postgres_database() as uri, serve(server_settings(uri, home)) as live:
        yield fuzz_server(live, invalid_data=False)
