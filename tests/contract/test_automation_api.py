"""The RolloutsApi and PoliciesApi contracts embedded on SQLite and PostgreSQL, and through a
live server, where defining a policy is refused with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gnomon.errors import InvalidInput
from tests.contract.automation_api_contract import SPEC, AutomationApiContract
from tests.fixtures.api_modes import EmbeddedPostgres, EmbeddedSqlite, OverHttp, Target


class TestSqliteAutomationApi(EmbeddedSqlite, AutomationApiContract):
    __test__ = True


class TestPostgresAutomationApi(EmbeddedPostgres, AutomationApiContract):
    __test__ = True


class TestHttpAutomationApi(OverHttp, AutomationApiContract):
    __test__ = True

    def test_policies_are_defined_beside_the_database(self, target: Target) -> None:
        policies: Any = target.client.policies
        defining: list[Callable[[], object]] = [
            lambda: policies.create("retrain", "flow:retrain", SPEC, cron="0 3 * * *"),
            lambda: policies.update("retrain", SPEC, "why"),
            lambda: policies.delete("retrain"),
        ]
        for define in defining:
            with pytest.raises(InvalidInput, match="created, updated and deleted beside the"):
                define()
        assert policies.list() == []
