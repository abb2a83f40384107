"""A study's journal is any editor's to append to, and the server replays it to show the
study page: journals no Optuna worker writes are a 422 page, never a 500; one that would
make the replay quadratic is refused before it runs; hostile names are escaped."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.ui.conftest import PASSWORD, WORKSPACE, UiServer, logged_in

API = "/api/v1/tuning/studies"
T0, T1 = "2024-01-01T00:00:00", "2024-01-01T00:00:01"
SCRIPT = "<script>alert(1)</script>"


def _create(name: str, directions: tuple[int, ...] = (1,)) -> dict[str, Any]:
    return {"op_code": 0, "worker_id": "w", "study_name": name, "directions": list(directions)}


def _trial(**changes: Any) -> dict[str, Any]:
    base = {
        "op_code": 4,
        "worker_id": "w",
        "study_id": 0,
        "datetime_start": T0,
        "datetime_complete": T1,
        "state": 1,
        "values": [1.0],
    }
    return base | changes


def _step(trial: int, step: Any) -> dict[str, Any]:
    return {
        "op_code": 7,
        "worker_id": "w",
        "trial_id": trial,
        "step": step,
        "intermediate_value": 1,
    }


HOSTILE = {
    "attr-without-key": [{"op_code": 2, "worker_id": "w", "study_id": 0, "user_attr": {}}],
    "attrs-a-list": [_trial(user_attrs=[1, 2])],
    "steps-mixed": [
        _trial(state=0, values=None, datetime_complete=None),
        _step(0, "a"),
        _step(0, 1),
    ],
    "values-text": [_trial(values=["a"])],
    "values-two": [_trial(values=[1.0, 2.0])],
    "values-none": [_trial(values=[])],
    "date-overflow": [_trial(datetime_start="0001-01-01T00:00:00+14:00")],
    "distribution-deep": [_trial(distributions={"x": "[" * 5000 + "]" * 5000}, params={"x": 0})],
    "one-huge-value": [_trial(values=[1e17])],
    "no-study": [],
}


@pytest.fixture(scope="module")
def editor(ui_server: UiServer) -> dict[str, str]:
    token, _ = ui_server.live.services.auth.login("editor", PASSWORD)
    return {"Authorization": f"Bearer {token}", "X-Gnomon-Workspace": WORKSPACE}


def _study(http: httpx.Client, editor: dict[str, str], name: str, logs: list[Any]) -> str:
    made = http.post(API, json={"name": name, "directions": ["minimize"]}, headers=editor)
    assert made.status_code == 201, made.text
    study_id: str = made.json()["id"]
    for at in range(0, len(logs), 1000):
        sent = http.post(
            f"{API}/{study_id}/journal", json={"logs": logs[at : at + 1000]}, headers=editor
        )
        assert sent.status_code == 200, sent.text
    return study_id


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_journal_is_a_page_never_a_500(
    ui_server: UiServer, editor: dict[str, str], case: str
) -> None:
    name = f"hostile-{case}"
    logs = ([_create(name)] if case != "no-study" else []) + HOSTILE[case]
    with httpx.Client(base_url=ui_server.url) as http:
        _study(http, editor, name, logs)
    with logged_in(ui_server, "viewer") as ui:
        page = ui.get(f"/studies/{name}", params={"workspace": WORKSPACE})
    assert page.status_code in (200, 422), page.text[:500]
    assert "Traceback" not in page.text
    if page.status_code == 422:  # the problem is named
        assert "journal" in page.text or "values no objective gives" in page.text


def test_a_journal_naming_too_many_parameters_is_refused_before_replay(
    ui_server: UiServer, editor: dict[str, str]
) -> None:
    # each running trial names a new parameter: a replay of these scans every earlier trial
    logs: list[Any] = [_create("quadratic")]
    for n in range(300):
        logs.append(_trial(state=0, values=None, datetime_complete=None))
        logs.append(
            {
                "op_code": 5,
                "worker_id": "w",
                "trial_id": n,
                "param_name": f"p{n}",
                "param_value_internal": 0.5,
                "distribution": '{"name": "FloatDistribution", "attributes": '
                '{"low": 0.0, "high": 1.0, "step": null, "log": false}}',
            }
        )
    with httpx.Client(base_url=ui_server.url) as http:
        _study(http, editor, "quadratic", logs)
    with logged_in(ui_server, "viewer") as ui:
        page = ui.get("/studies/quadratic", params={"workspace": WORKSPACE})
    assert page.status_code == 422 and "at most 256" in page.text


def test_hostile_names_are_escaped(ui_server: UiServer, editor: dict[str, str]) -> None:
    choices = '{"name": "CategoricalDistribution", "attributes": {"choices": ["<img src=x>"]}}'
    logs = [
        _create("escaped"),
        _trial(distributions={SCRIPT: choices}, params={SCRIPT: 0}),
        _trial(values=[2.0], distributions={SCRIPT: choices}, params={SCRIPT: 0}),
    ]
    with httpx.Client(base_url=ui_server.url) as http:
        _study(http, editor, "escaped", logs)
    with logged_in(ui_server, "viewer") as ui:
        page = ui.get("/studies/escaped", params={"workspace": WORKSPACE})
    assert page.status_code == 200
    assert SCRIPT not in page.text and "<img src=x>" not in page.text
    assert "&lt;script&gt;" in page.text
