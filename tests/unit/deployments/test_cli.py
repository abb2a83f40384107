"""``gnomon deploy ...`` end to end through the root app, each test in its own GNOMON_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

import gnomon
from tests.fixtures.cli import fails, ok, ok_json
from tests.fixtures.registry import seed_models


@pytest.fixture
def models(gnomon_home: Path) -> gnomon.Client:
    """churn versions 1-3 (production → 1) and fraud version 1, in the embedded registry."""
    client = gnomon.Client()
    seed_models(client.registry.service, client.scope)
    return client


@pytest.fixture
def web(models: gnomon.Client) -> str:
    ok("deploy", "create", "web", "--model", "churn@production")
    return "web"


def arms(name: str = "web") -> list[tuple[str, str, str, int, int | None]]:
    status = ok_json("deploy", "status", name)
    return [
        (a["role"], a["model"], a["selector"], a["weight"], a["version"]) for a in status["arms"]
    ]


# -- create, list, delete --------------------------------------------------------------------


def test_create_and_list(models: gnomon.Client) -> None:
    out = ok("deploy", "create", "web", "--model", "churn@production", "-d", "the site")
    assert out == "created deployment 'web': all traffic to churn@production\n"
    ok(
        "deploy",
        "create",
        "batch",
        "--model",
        "fraud/1",
        "--policy",
        "warn",
        "--no-batching",
        "--batch-max-rows",
        "32",
        "--batch-wait-ms",
        "1.5",
    )
    listed = ok_json("deploy", "list")
    assert [(d["name"], d["revision"], d["description"]) for d in listed] == [
        ("batch", 1, ""),
        ("web", 1, "the site"),
    ]
    assert listed[0]["config"] == {
        "policy": "warn",
        "batching": False,
        "batch_max_rows": 32,
        "batch_wait_ms": 1.5,
    }
    assert listed[1]["routing"]["arms"] == [
        {"model": "churn", "selector": "production", "role": "primary", "weight": 100}
    ]
    table = ok("deploy", "list")
    assert "churn@production" in table and "fraud/1" in table and "warn" in table


def test_create_errors_are_one_line(models: gnomon.Client) -> None:
    assert "'ghost'" in fails("deploy", "create", "web", "--model", "ghost/1")
    assert "unknown policy 'drop'" in fails(
        "deploy", "create", "web", "--model", "churn/1", "--policy", "drop"
    )
    assert "batch_max_rows" in fails(
        "deploy", "create", "web", "--model", "churn/1", "--batch-max-rows", "0"
    )
    assert "contains '/'" in fails("deploy", "create", "a/b", "--model", "churn/1")
    ok("deploy", "create", "web", "--model", "churn/1")
    assert "already exists" in fails("deploy", "create", "web", "--model", "churn/1")


def test_delete_asks_first(web: str) -> None:
    assert "not deleted" in fails("deploy", "delete", web, input="n\n")
    assert "not deleted" in fails("deploy", "delete", web, input="")  # no terminal
    assert ok("deploy", "delete", web, input="y\n").endswith("deleted deployment 'web'\n")
    ok("deploy", "create", web, "--model", "churn/1")
    assert ok("deploy", "delete", web, "--yes") == "deleted deployment 'web'\n"
    assert ok_json("deploy", "list") == []
    assert "'web' not found" in fails("deploy", "delete", web, "--yes")


# -- routing ---------------------------------------------------------------------------------


def test_canary_ab_and_shadow(web: str) -> None:
    out = ok("deploy", "set-route", web, "--model", "churn/2", "--canary", "10", "--note", "v2")
    assert out == "web revision 2: churn@production 90%, churn/2 canary 10%\n"
    ok("deploy", "set-route", web, "--model", "churn/3", "--ab", "customer_id", "--weight", "30")
    ok("deploy", "set-route", web, "-m", "fraud", "--shadow")
    assert arms() == [
        ("primary", "churn", "production", 70, 1),
        ("ab", "churn", "3", 30, 3),
        ("shadow", "fraud", "latest", 0, 1),
    ]
    assert ok_json("deploy", "status", web)["deployment"]["routing"]["ab_key"] == "customer_id"
    out = ok("deploy", "remove-route", web, "--model", "fraud/latest")
    assert out == "web revision 5: churn@production 70%, churn/3 ab 30%\n"


def test_route_errors_are_one_line(web: str) -> None:
    assert "--weight applies to an A/B split" in fails(
        "deploy", "set-route", web, "-m", "churn/2", "--weight", "20"
    )
    assert "choose one of canary, A/B key or shadow" in fails(
        "deploy", "set-route", web, "-m", "churn/2", "--canary", "10", "--shadow"
    )
    assert "weight must be a whole percentage" in fails(
        "deploy", "set-route", web, "-m", "churn/2", "--canary", "100"
    )
    assert "version 9" in fails("deploy", "set-route", web, "-m", "churn/9", "--canary", "5")
    assert "is the primary" in fails("deploy", "remove-route", web, "-m", "churn@production")
    assert "no canary or A/B arm" in fails("deploy", "promote", web)
    assert "no earlier revision" in fails("deploy", "rollback", web)
    assert "'nope' not found" in fails("deploy", "set-route", "nope", "-m", "churn/2")


def test_promote_and_rollback(web: str) -> None:
    ok("deploy", "set-route", web, "-m", "churn/2", "--canary", "10")
    assert ok("deploy", "promote", web) == "web revision 3: churn/2 100%\n"
    out = ok("deploy", "rollback", web, "--note", "errors up")
    assert out == "web revision 4: churn@production 90%, churn/2 canary 10%\n"
    ok("deploy", "set-route", web, "-m", "fraud/1", "--shadow")
    assert ok("deploy", "promote", web, "--model", "fraud/1") == "web revision 6: fraud/1 100%\n"


# -- update ----------------------------------------------------------------------------------


def test_update_changes_only_what_is_given(web: str) -> None:
    ok("deploy", "update", web, "--policy", "clip", "--batching", "--batch-max-rows", "8")
    config = ok_json("deploy", "status", web)["deployment"]["config"]
    assert config == {"policy": "clip", "batching": True, "batch_max_rows": 8, "batch_wait_ms": 2.0}
    ok("deploy", "update", web, "--description", "the site", "--note", "docs")
    shown = ok_json("deploy", "status", web)["deployment"]
    assert shown["description"] == "the site" and shown["config"] == config
    ok("deploy", "update", web, "--batching-auto")
    assert ok_json("deploy", "status", web)["deployment"]["config"]["batching"] is None
    assert "nothing to update" in fails("deploy", "update", web)
    assert "choose one of --batching" in fails(
        "deploy", "update", web, "--batching", "--batching-auto"
    )
    assert "batch_wait_ms" in fails("deploy", "update", web, "--batch-wait-ms", "5000")


# -- status and history ----------------------------------------------------------------------


def test_status_table(web: str) -> None:
    ok("deploy", "set-route", web, "-m", "churn/2", "--ab", "user")
    ok("deploy", "set-route", web, "-m", "fraud/1", "--shadow")
    out = ok("deploy", "status", web)
    assert "Deployment web (revision 3)" in out
    rows = [line.split() for line in out.splitlines()]
    lines = {row[0]: row for row in rows if row and row[0] in ("primary", "ab", "shadow")}
    assert lines["primary"] == ["primary", "churn", "production", "v1", "50%"]
    assert lines["ab"] == ["ab", "churn", "2", "v2", "50%"]
    assert lines["shadow"] == ["shadow", "fraud", "1", "v1", "copy"]
    assert "policy reject, batching as the model says (up to 64 rows, 2 ms wait)" in out
    assert "A/B split by 'user'" in out


def test_status_follows_the_alias_and_survives_its_removal(models: gnomon.Client, web: str) -> None:
    registry = models.registry
    registry.set_alias("churn", "production", 3)
    assert arms() == [("primary", "churn", "production", 100, 3)]
    registry.delete_alias("churn", "production")
    status = ok_json("deploy", "status", web)
    assert status["arms"][0]["version"] is None and "production" in status["problem"]
    out = ok("deploy", "status", web)
    assert "warning:" in out and "production" in out
    assert "'ghost' not found" in fails("deploy", "status", "ghost")


def test_history(web: str) -> None:
    ok("deploy", "set-route", web, "-m", "churn/2", "--canary", "10", "--note", "try v2")
    ok("deploy", "rollback", web)
    events = ok_json("deploy", "history", web)
    assert [(e["revision"], e["action"], e["note"]) for e in events] == [
        (1, "create", ""),
        (2, "set_route", "try v2"),
        (3, "rollback", ""),
    ]
    assert events[1]["routing"]["arms"][1]["role"] == "canary"
    assert {e["actor"] for e in events} == {gnomon.Client().scope.principal}
    out = ok("deploy", "history", web)
    assert "History of web" in out and "set_route" in out and "try v2" in out
    assert "churn@production 90%, churn/2 canary 10%" in out
