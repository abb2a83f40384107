"""Embedded mode refuses what the server's wire types refuse, with InvalidInput naming the
field, on SQLite and PostgreSQL: no driver error (NUL on PostgreSQL, an integer past int64 on
SQLite) reaches the caller, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gnomon._types import Scope
from gnomon.backends import Services, open_services
from gnomon.errors import InvalidInput
from gnomon.registry.service import RegistryService
from gnomon.tracking.entities import Metric
from gnomon.tracking.search import MAX_SEARCH_TERMS
from gnomon.tracking.service import TrackingService
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.registry import seed_models
from tests.fixtures.server import server_settings

BIG = 2**63


@dataclass
class Embedded:
    tracking: TrackingService
    registry: RegistryService
    scope: Scope
    experiment_id: str
    run_id: str
    baseline: tuple[Any, ...] = ()  # every refusal leaves this as it was

    def state(self) -> tuple[Any, ...]:
        return (
            self.tracking.get_run(self.scope, self.run_id),
            self.tracking.search_runs(self.scope, self.experiment_id, include_deleted=True).items,
            self.tracking.list_experiments(self.scope, None).items,
            self.registry.search_models(self.scope).items,
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def embedded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Embedded]:
    uri: str = request.getfixturevalue(f"{request.param}_uri")
    services: Services = open_services(server_settings(uri, tmp_path))
    assert services.database is not None and services.registry is not None
    scope = fresh_workspace(services.database)
    seed_models(services.registry, scope)
    exp = services.tracking.create_experiment(scope, "target")
    run = services.tracking.create_run(scope, exp.id, "r")
    embedded = Embedded(services.tracking, services.registry, scope, exp.id, run.id)
    embedded.baseline = embedded.state()
    yield embedded


def refused(embedded: Embedded, call: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        call()
    assert embedded.state() == embedded.baseline


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_text_no_database_can_store_is_refused(embedded: Embedded, bad: str) -> None:
    t, r, s = embedded.tracking, embedded.registry, embedded.scope
    run = embedded.run_id
    refused(embedded, lambda: t.create_experiment(s, f"a{bad}"), "experiment name")
    refused(embedded, lambda: t.create_run(s, embedded.experiment_id, f"r{bad}"), "run name")
    refused(embedded, lambda: t.log_batch(s, run, tags={"t": bad}), "tag 't' value")
    refused(embedded, lambda: t.log_batch(s, run, params={"p": bad}), "param 'p' value")
    refused(embedded, lambda: t.log_batch(s, run, [Metric(f"m{bad}", 1.0)]), "metric key")
    refused(embedded, lambda: t.update_run(s, run, description=bad), "description")
    refused(embedded, lambda: t.get_experiment_by_name(s, f"a{bad}"), "experiment name")
    refused(embedded, lambda: t.get_run(s, f"a{bad}"), "run_id")
    refused(
        embedded, lambda: t.search_runs(s, embedded.experiment_id, f"params.p = '{bad}'"), "filter"
    )
    refused(embedded, lambda: r.create_model(s, f"m{bad}"), "model name")
    refused(embedded, lambda: r.set_model_tag(s, "churn", "t", bad), "tag 't' value")
    refused(embedded, lambda: r.search_models(s, name_like=f"a{bad}"), "name_like")


def test_integers_past_a_column_are_refused(embedded: Embedded) -> None:
    t, r, s = embedded.tracking, embedded.registry, embedded.scope
    run, exp = embedded.run_id, embedded.experiment_id
    refused(embedded, lambda: t.log_batch(s, run, [Metric("m", 1.0, BIG)]), "step")
    refused(embedded, lambda: t.log_batch(s, run, [Metric("m", 1.0, 0, BIG)]), "'m'")
    refused(embedded, lambda: t.create_run(s, exp, start_time=BIG), "start_time")
    refused(embedded, lambda: t.update_run(s, run, "FINISHED", end_time=BIG), "end_time")
    refused(embedded, lambda: t.end_run(s, run, end_time=-1), "end_time")
    refused(embedded, lambda: t.list_experiments(s, None, BIG), "max_results")
    refused(embedded, lambda: r.search_models(s, max_results=BIG), "max_results")
    refused(embedded, lambda: r.set_alias(s, "churn", "staging", BIG), "version")


def test_bools_are_not_numbers(embedded: Embedded) -> None:
    t, s, run = embedded.tracking, embedded.scope, embedded.run_id
    refused(embedded, lambda: t.log_batch(s, run, [Metric("m", True)]), "must be a number")
    refused(embedded, lambda: t.log_batch(s, run, [Metric("m", 1.0, True)]), "step")
    exp = embedded.experiment_id
    refused(embedded, lambda: t.create_run(s, exp, start_time=True), "start_time")


def test_page_tokens_past_int64_are_refused(embedded: Embedded) -> None:
    from gnomon._types import encode_offset_token

    token = encode_offset_token(BIG)
    t, s = embedded.tracking, embedded.scope
    refused(embedded, lambda: t.list_experiments(s, None, 10, token), "page_token")
    refused(
        embedded, lambda: t.search_runs(s, embedded.experiment_id, page_token=token), "page_token"
    )
    refused(embedded, lambda: embedded.registry.search_models(s, page_token=token), "page_token")


def test_a_search_past_the_join_limit_is_refused(embedded: Embedded) -> None:
    t, s, exp = embedded.tracking, embedded.scope, embedded.experiment_id
    terms = " and ".join(f"metrics.m{i} > 0" for i in range(64))
    refused(embedded, lambda: t.search_runs(s, exp, terms), str(MAX_SEARCH_TERMS))
    order = [f"metrics.m{i}" for i in range(MAX_SEARCH_TERMS + 1)]
    refused(embedded, lambda: t.search_runs(s, exp, order_by=order), str(MAX_SEARCH_TERMS))


@pytest.mark.parametrize("digits", ["²", "٣", "\uff11", "9" * 5000])  # int() refuses each
def test_unicode_digits_are_not_version_numbers(embedded: Embedded, digits: str) -> None:
    r, s = embedded.registry, embedded.scope
    refused(embedded, lambda: r.resolve(s, "churn", digits), "version")
    refused(embedded, lambda: r.resolve_uri(s, f"models:/churn/{digits}"), "models:/churn/")
