"""`gnomon server --workers 2` and `gnomon ui` with JSON logs, as real processes: every stderr
line is a JSON object with every field; each answer, refusals included, has one access line
under the id the client got back, naming the caller once known; no password, token or key is
logged."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from tests.fixtures.log_lines import (
    Output,
    access_line,
    assert_no_secret,
    json_env,
    json_lines,
    running,
)
from tests.fixtures.processes import GNOMON, free_port

ADMIN_PASSWORD = "Admin-Password-31415"
USER_PASSWORD = "User-Password-27182"
WRONG_PASSWORD = "Wrong-Password-16180"
AWS_SECRET = "AwsSecretKey-Never-Logged-0001"
WORKSPACE = "default"  # the default workspace's id


def _cli(args: list[str], env: dict[str, str], token: str) -> Output:
    done = subprocess.run(
        [GNOMON, *args], env=env | {"GNOMON_TOKEN": token}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    for text in done.stderr.splitlines():  # what it logged, if anything, is JSON too
        json.loads(text)
    return Output(done.stdout, done.stderr)


def test_every_server_line_is_json_and_no_secret_is_logged(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = json_env(
        "debug",
        GNOMON_HOME=str(tmp_path / "home"),
        GNOMON_ADMIN_PASSWORD=ADMIN_PASSWORD,
        AWS_ACCESS_KEY_ID="AKIALOGSTEST",
        AWS_SECRET_ACCESS_KEY=AWS_SECRET,
    )
    with (
        running(
            ["server", "--port", str(port), "--workers", "2"], env, tmp_path, f"{url}/healthz"
        ) as output,
        httpx.Client(base_url=url) as http,
    ):
        anonymous = http.get("/api/v1/runs/r1", headers={"X-Request-ID": "client-chosen-401"})
        wrong = http.post(
            "/api/v1/auth/login", json={"username": "admin", "password": WRONG_PASSWORD}
        )
        login = http.post(
            "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        admin = {"Authorization": f"Bearer {login.json()['token']}"}
        created = http.post(
            "/api/v1/users", json={"name": "bob", "password": USER_PASSWORD}, headers=admin
        )
        issued = http.post("/api/v1/tokens", json={"name": "ci"}, headers=admin)
        api_token = {"Authorization": f"Bearer {issued.json()['token']}"}
        whoami = http.get("/api/v1/auth/whoami", headers=api_token)
        bob = http.post("/api/v1/auth/login", json={"username": "bob", "password": USER_PASSWORD})
        outsider = http.get(
            "/api/v1/experiments", headers={"Authorization": f"Bearer {bob.json()['token']}"}
        )
        missing = http.get("/api/v1/runs/r1", headers=api_token)
        invalid = http.post("/api/v1/experiments", json={"nme": "typo"}, headers=admin)
        unrouted = http.get("/api/v1/nowhere", headers=admin)
        probe = http.get("/readyz")
        cli = _cli(["experiments", "list"], env | {"GNOMON_URI": url}, issued.json()["token"])
    statuses = [r.status_code for r in (anonymous, wrong, login, created, issued, whoami, bob)]
    assert statuses == [401, 401, 200, 201, 201, 200, 200]
    assert [r.status_code for r in (outsider, missing, invalid, unrouted)] == [404, 404, 422, 404]

    lines = json_lines(output.stderr, "server")
    assert access_line(lines, anonymous)["request_id"] == "client-chosen-401"
    assert access_line(lines, anonymous)["user"] is None
    assert access_line(lines, wrong)["user"] is None
    caller = access_line(lines, missing)
    assert (caller["user"], caller["workspace"], caller["object"]) == (
        "admin",
        WORKSPACE,
        "runs/r1",
    )
    assert caller["http"]["route"] == "/api/v1/runs/{run_id}"
    refused = access_line(lines, outsider)  # authenticated, then refused the workspace
    assert (refused["user"], refused["workspace"]) == ("bob", None)
    assert access_line(lines, invalid)["workspace"] == WORKSPACE
    assert access_line(lines, unrouted)["http"]["route"] == "<unmatched>"
    assert access_line(lines, whoami)["user"] == "admin"
    assert access_line(lines, probe)["level"] == "DEBUG"  # probes stay out of info
    # The CLI's requests (the only ones listing experiments) carry its command's one id.
    listed = [
        line
        for line in lines
        if line["logger"] == "gnomon.access"
        and line["http"]["path"] in ("/api/v1/workspace", "/api/v1/experiments")
        and line["http"]["status"] == 200
    ]
    assert len(listed) >= 2 and len({line["request_id"] for line in listed}) == 1
    assert {line["user"] for line in listed} == {"admin"} and "name" in cli.stdout
    for response in (login, created, issued):
        assert access_line(lines, response)["level"] == "INFO"
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # uvicorn's own, as JSON
    # The supervisor and its workers (fresh interpreters, configured by uvicorn) alike.
    assert len({line["pid"] for line in lines}) >= 2

    secrets = [ADMIN_PASSWORD, USER_PASSWORD, WRONG_PASSWORD, AWS_SECRET]
    secrets += [login.json()["token"], bob.json()["token"], issued.json()["token"]]
    secrets += [token[8:] for token in secrets[-3:]]  # the secret part past the shown prefix
    assert_no_secret(output, secrets)
    assert_no_secret(cli, secrets)


def test_the_web_ui_logs_its_requests_as_json(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = json_env(GNOMON_HOME=str(tmp_path / "home"))
    with running(["ui", "--port", str(port)], env, tmp_path, f"{url}/healthz") as output:
        page = httpx.get(f"{url}/")
        missing = httpx.get(f"{url}/api/v1/runs/r1")
    assert page.status_code == 200 and missing.status_code == 404
    lines = json_lines(output.stderr, "ui")
    assert access_line(lines, page)["http"]["status"] == 200
    assert access_line(lines, missing)["user"] == "local"  # everyone is the local admin
