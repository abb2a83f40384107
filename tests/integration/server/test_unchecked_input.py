"""Unchecked input through a real server, on SQLite and PostgreSQL: integers past int64, page
tokens built to hurt the decoder, searches past SQLite's join limit, lone surrogates, NUL
characters, Unicode digits as version numbers, and bools or strings where numbers belong.
Each attack is a 4xx whose message names the field, and nothing is written."""

from __future__ import annotations

import base64
import json
import math
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gnomon.tracking.search import MAX_IN_VALUES, MAX_SEARCH_TERMS
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.registry import seed_models
from tests.fixtures.server import LiveServer

BIG = 2**63  # one past the largest signed 64-bit integer


@dataclass
class Api:
    live: LiveServer
    http: httpx.Client
    experiment_id: str
    run_id: str
    baseline: tuple[Any, ...] = ()  # the snapshot every refused attack must leave as it was

    def send(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """``body`` as JSON with ASCII escapes, so lone surrogates travel as ``\\ud800``."""
        path = path.format(exp=self.experiment_id, run=self.run_id)
        if isinstance(body, dict):
            text = (
                json.dumps(body).replace("{exp}", self.experiment_id).replace("{run}", self.run_id)
            )
            headers = {"content-type": "application/json"}
            return self.http.request(method, path, content=text, headers=headers, params=params)
        return self.http.request(method, path, params=params)

    def snapshot(self) -> tuple[Any, ...]:
        """Everything an attack could have written to, as the API shows it."""
        search = {"experiment_ids": [self.experiment_id], "include_deleted": True}
        return (
            self.http.get(f"/runs/{self.run_id}").json(),
            self.http.post("/runs/search", json=search).json(),
            self.http.get("/experiments", params={"lifecycle": "all"}).json(),
            self.http.get("/models").json(),
            self.http.get("/model-versions").json(),
            self.http.get("/deployments").json(),
        )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """A fresh workspace on the session's server: an experiment, a run, models churn (1-3) and
    fraud, and a deployment ``web``."""
    name = "open_server" if request.param == "sqlite" else "open_server_postgres"
    live: LiveServer = request.getfixturevalue(name)
    assert live.services.database is not None and live.services.registry is not None
    scope = fresh_workspace(live.services.database)
    seed_models(live.services.registry, scope)
    headers = {"X-Gnomon-Workspace": scope.workspace}
    with httpx.Client(base_url=f"{live.url}/api/v1", headers=headers) as http:
        exp = http.post("/experiments", json={"name": "target"}).json()
        run = http.post("/runs", json={"experiment_id": exp["id"], "name": "r"}).json()
        assert http.post("/deployments", json={"name": "web", "model": "churn/1"}).is_success
        api = Api(live, http, exp["id"], run["id"])
        api.baseline = api.snapshot()
        yield api


def refused(response: httpx.Response, field: str, status: int = 422) -> str:
    """The response is the error JSON with ``status``, and its message names ``field``."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["message"], error["message"]
    return str(error["message"])


def attack(
    api: Api, method: str, path: str, body: Any, field: str, params: dict[str, str] | None = None
) -> str:
    message = refused(api.send(method, path, body, params), field)
    assert api.snapshot() == api.baseline  # nothing written
    return message


# -- integers past what a column holds --------------------------------------------------------

BEYOND_INT64 = [
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m", "value": 1, "timestamp": BIG}]},
     "metrics.0.timestamp", {}),
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m", "value": 1, "step": BIG}]},
     "metrics.0.step", {}),
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m", "value": 1, "step": -BIG - 1}]},
     "metrics.0.step", {}),
    ("POST", "/runs", {"experiment_id": "{exp}", "start_time": BIG}, "start_time", {}),
    ("PATCH", "/runs/{run}", {"status": "FINISHED", "end_time": BIG}, "end_time", {}),
    ("POST", "/runs/search", {"experiment_ids": ["{exp}"], "max_results": BIG}, "max_results", {}),
    ("GET", "/experiments", None, "max_results", {"max_results": str(BIG)}),
    ("GET", "/models", None, "max_results", {"max_results": str(-2 * BIG)}),
    ("GET", "/model-versions", None, "max_results", {"max_results": str(BIG)}),
    ("GET", "/models/churn/versions/" + str(BIG), None, "version", {}),
    ("PUT", "/models/churn/aliases/staging", {"version": BIG}, "version", {}),
    ("POST", "/deployments/web/routes", {"model": "churn/2", "canary": BIG}, "canary", {}),
    ("GET", "/deployments/web/records", None, "limit", {"limit": str(BIG)}),
    ("GET", "/audit", None, "since", {"since": str(BIG)}),
    ("GET", "/audit", None, "until", {"until": str(-BIG)}),
    ("POST", "/tokens", {"name": "t", "expires_in_days": BIG}, "expires_in_days", {}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "field", "params"), BEYOND_INT64)
def test_integers_beyond_int64_are_refused_naming_the_field(
    api: Api, method: str, path: str, body: Any, field: str, params: dict[str, str]
) -> None:
    attack(api, method, path, body, field, params)


def test_times_beyond_year_9999_are_refused(api: Api) -> None:
    """A stored time a datetime cannot show would break every reader of the run."""
    body = {"experiment_id": "{exp}", "start_time": 253_402_300_800_000}
    attack(api, "POST", "/runs", body, "start_time")


# -- page tokens -------------------------------------------------------------------------------


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


TOKENS = {
    "offset past int64": _token(json.dumps({"offset": BIG})),
    "deeply nested": _token('{"offset": ' + "[" * 50_000 + "]" * 50_000 + "}"),
    "nested, short": _token('{"offset": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}'),
    "negative offset": _token(json.dumps({"offset": -1})),
    "bool offset": _token(json.dumps({"offset": True})),
    "string offset": _token(json.dumps({"offset": "5"})),
    "a list": _token("[5]"),
    "not base64 JSON": "@@@@",
}


@pytest.mark.parametrize("token", TOKENS.values(), ids=TOKENS.keys())
def test_page_tokens_are_checked_before_use(api: Api, token: str) -> None:
    search = {"experiment_ids": ["{exp}"], "page_token": token}
    attack(api, "POST", "/runs/search", search, "page_token")
    if len(token) < 10_000:  # a URL holds the short ones
        for listing in ("/experiments", "/models", "/audit"):
            refused(api.send("GET", listing, params={"page_token": token}), "page_token")


# -- searches past SQLite's 64-table join ------------------------------------------------------


def _search(api: Api, filter: str, order_by: list[str] | None = None) -> httpx.Response:
    body = {"experiment_ids": ["{exp}"], "filter": filter, "order_by": order_by or []}
    return api.send("POST", "/runs/search", body)


def test_a_filter_naming_64_metrics_is_refused_naming_the_limit(api: Api) -> None:
    terms = " and ".join(f"metrics.m{i} > 0" for i in range(64))
    message = refused(_search(api, terms), "filter")
    assert str(MAX_SEARCH_TERMS) in message


def test_filter_and_order_by_count_together(api: Api) -> None:
    terms = " and ".join(f"params.p{i} = 'x'" for i in range(20))
    order = [f"tags.t{i} DESC" for i in range(MAX_SEARCH_TERMS - 19)]
    assert str(MAX_SEARCH_TERMS) in refused(_search(api, terms, order), "order_by")
    order = order[:-1]  # exactly the limit: both databases run it
    assert _search(api, terms, order).json() == {"items": [], "next_page_token": None}


def test_an_in_list_is_bounded(api: Api) -> None:
    values = ", ".join(f"'v{i}'" for i in range(MAX_IN_VALUES + 1))
    assert str(MAX_IN_VALUES) in refused(_search(api, f"params.p IN ({values})"), "filter")


# -- text a database cannot store --------------------------------------------------------------

BAD_TEXT = [
    ("POST", "/experiments", {"name": "a{bad}"}, "name"),
    ("POST", "/runs", {"experiment_id": "{exp}", "name": "r{bad}"}, "name"),
    ("POST", "/runs", {"experiment_id": "{exp}", "tags": {"t{bad}": "v"}}, "tags"),
    ("POST", "/runs/{run}/batch", {"tags": {"t": "v{bad}"}}, "tags.t"),
    ("POST", "/runs/{run}/batch", {"params": {"p": "v{bad}"}}, "params.p"),
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m{bad}", "value": 1}]}, "metrics.0.key"),
    ("PATCH", "/runs/{run}", {"description": "{bad}"}, "description"),
    ("POST", "/runs/search", {"experiment_ids": ["{exp}"], "filter": "params.p = '{bad}'"},
     "filter"),
    ("POST", "/models", {"name": "m{bad}"}, "name"),
    ("PATCH", "/models/churn", {"description": "{bad}"}, "description"),
    ("PUT", "/models/churn/tags/t", {"value": ["ok", {"deep": "{bad}"}]}, "value"),
    ("POST", "/deployments/web/routes", {"model": "churn/2", "note": "{bad}"}, "note"),
    ("POST", "/deployments/web/outcomes", {"outcomes": [{"request_id": "r{bad}", "value": 1}]},
     "outcomes.0.request_id"),
    ("POST", "/auth/login", {"username": "admin{bad}", "password": "x"}, "username"),
]  # fmt: skip


def _with(body: Any, bad: str) -> Any:
    """``body`` with ``{bad}`` replaced by ``bad`` in every key and string."""
    if isinstance(body, str):
        return body.replace("{bad}", bad)
    if isinstance(body, list):
        return [_with(item, bad) for item in body]
    if isinstance(body, dict):
        return {_with(key, bad): _with(value, bad) for key, value in body.items()}
    return body


@pytest.mark.parametrize(("method", "path", "body", "field"), BAD_TEXT)
def test_lone_surrogates_are_refused_naming_the_field(
    api: Api, method: str, path: str, body: Any, field: str
) -> None:
    message = attack(api, method, path, _with(body, "\ud800"), field)
    assert "surrogate" in message


@pytest.mark.parametrize(("method", "path", "body", "field"), BAD_TEXT)
def test_nul_characters_are_refused_naming_the_field(
    api: Api, method: str, path: str, body: Any, field: str
) -> None:
    """PostgreSQL text cannot hold NUL: its driver error would be a 500 (SQLite refuses the
    same, so data moves between the two)."""
    message = attack(api, method, path, _with(body, "\x00"), field)
    assert "NUL" in message


NUL_IN_URL = [
    ("/runs/a%00b", {}, "run_id"),
    ("/experiments/a%00b", {}, "experiment_id"),
    ("/experiments/by-name/a%00b", {}, "name"),
    ("/runs/{run}/metrics/a%00b/history", {}, "key"),
    ("/runs/{run}/artifacts", {"path": "a\x00b"}, "path"),
    ("/models/a%00b", {}, "name"),
    ("/models", {"name_like": "a\x00b"}, "name_like"),
    ("/models/churn/versions/1%00", {}, "version"),
    ("/model-versions", {"run_id": "a\x00b"}, "run_id"),
    ("/deployments/a%00b", {}, "name"),
    ("/audit", {"actor": "a\x00b"}, "actor"),
]


@pytest.mark.parametrize(("path", "params", "field"), NUL_IN_URL)
def test_nul_in_paths_and_queries_is_refused_naming_the_parameter(
    api: Api, path: str, params: dict[str, str], field: str
) -> None:
    attack(api, "GET", path, None, field, params)


def test_a_nul_in_the_workspace_header_never_reaches_the_database(api: Api) -> None:
    """The HTTP parser refuses control characters in headers, before the app runs."""
    url = urlsplit(api.live.url)
    with socket.create_connection((url.hostname or "", url.port or 80), timeout=10) as raw:
        raw.sendall(
            b"GET /api/v1/experiments HTTP/1.1\r\nHost: x\r\nX-Gnomon-Workspace: a\x00b\r\n"
            b"Connection: close\r\n\r\n"
        )
        status_line = raw.recv(64).split(b"\r\n", 1)[0]
    assert status_line.split()[1] == b"400"


# -- version numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize("digits", ["²", "٣", "\uff11", "9" * 5000])  # isdigit() is True
def test_unicode_digits_are_not_version_numbers(api: Api, digits: str) -> None:
    for method, suffix, body in (
        ("GET", "", None),
        ("GET", "/files", None),
        ("GET", "/contract", None),
        ("PATCH", "", {"description": "x"}),
        ("DELETE", "", None),
    ):
        attack(api, method, f"/models/churn/versions/{digits}{suffix}", body, "version")
    attack(api, "POST", "/deployments", {"name": "d", "model": f"churn/{digits}"}, "model")
    attack(api, "POST", "/deployments/web/routes", {"model": f"churn/{digits}"}, "model")


# -- numbers are numbers ------------------------------------------------------------------------

NOT_NUMBERS = [
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m", "value": True}]}, "metrics.0.value"),
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m", "value": "1"}]}, "metrics.0.value"),
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m", "value": "nan"}]}, "metrics.0.value"),
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m", "value": 1, "step": True}]},
     "metrics.0.step"),
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m", "value": 1, "step": 1.5}]},
     "metrics.0.step"),
    ("POST", "/runs/{run}/batch", {"metrics": [{"key": "m", "value": 1, "timestamp": "5"}]},
     "metrics.0.timestamp"),
    ("POST", "/runs", {"experiment_id": "{exp}", "start_time": True}, "start_time"),
    ("POST", "/runs/search", {"experiment_ids": ["{exp}"], "max_results": "5"}, "max_results"),
    ("POST", "/runs/search", {"experiment_ids": ["{exp}"], "include_deleted": "yes"},
     "include_deleted"),
    ("PUT", "/models/churn/aliases/staging", {"version": True}, "version"),
    ("POST", "/deployments/web/routes", {"model": "churn/2", "canary": True}, "canary"),
    ("POST", "/deployments/web/routes", {"model": "churn/2", "ab_key": "k", "ab_weight": "50"},
     "ab_weight"),
    ("POST", "/users", {"name": "u", "password": "password-123", "is_admin": "yes"}, "is_admin"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "field"), NOT_NUMBERS)
def test_bools_and_strings_are_not_numbers(
    api: Api, method: str, path: str, body: Any, field: str
) -> None:
    attack(api, method, path, body, field)


def test_nan_and_infinity_still_travel_as_strings(api: Api) -> None:
    points = [{"key": "edge", "value": v, "step": i} for i, v in enumerate(["NaN", "Infinity"])]
    points.append({"key": "edge", "value": "-Infinity", "step": 2})
    assert api.send("POST", "/runs/{run}/batch", {"metrics": points}).status_code == 204
    history = api.http.get(f"/runs/{api.run_id}/metrics/edge/history").json()
    assert [p["value"] for p in history] == ["NaN", "Infinity", "-Infinity"]
    assert math.isinf(float(history[1]["value"]))
    api.baseline = api.snapshot()  # a legitimate write: the new state is the one to keep


# -- JSON values --------------------------------------------------------------------------------


def test_json_values_are_bounded_in_depth_and_integers(api: Api) -> None:
    nested: Any = 1
    for _ in range(40):
        nested = [nested]
    attack(api, "PUT", "/models/churn/tags/t", {"value": nested}, "value")
    outcome = {"outcomes": [{"request_id": "r1", "value": {"n": 2**64}}]}
    attack(api, "POST", "/deployments/web/outcomes", outcome, "outcomes.0.value")
