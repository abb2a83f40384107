"""``X-Forwarded-For`` is believed only from the proxies listed in --forwarded-allow-ips
(GNOMON_FORWARDED_ALLOW_IPS): not by default, not even from loopback."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gnomon.web.proxy import proxy_options
from tests.fixtures.cli import fails
from tests.fixtures.server import serve, server_settings

PASSWORD = "admin-password-123"
FORGED = "203.0.113.9"


@pytest.mark.parametrize(
    ("allowed", "recorded"),
    [
        (None, "127.0.0.1"),  # the default, as in gnomon server and run_in_thread
        ("10.0.0.0/8, 192.0.2.1", "127.0.0.1"),  # proxies listed, but not this peer
        ("127.0.0.1", FORGED),  # the peer is a listed proxy: its header is believed
    ],
)
def test_login_and_audit_record_the_forwarded_address_only_from_a_listed_proxy(
    allowed: str | None, recorded: str, sqlite_uri: str, tmp_path: Path
) -> None:
    settings = server_settings(sqlite_uri, tmp_path, admin_password=PASSWORD)
    with serve(settings, **proxy_options(allowed)) as live:
        assert live.services.auth is not None
        live.services.auth.bootstrap_admin(PASSWORD)
        with httpx.Client(base_url=live.url, headers={"X-Forwarded-For": FORGED}) as http:
            login = "/api/v1/auth/login"
            bad = http.post(login, json={"username": "admin", "password": "wrong-password"})
            token = http.post(login, json={"username": "admin", "password": PASSWORD})
            events = http.get(
                "/api/v1/audit",
                params={"everywhere": True},
                headers={"Authorization": f"Bearer {token.json()['token']}"},
            ).json()["items"]
    assert bad.status_code == 401
    logins = {e["action"]: e["address"] for e in events if e["action"].startswith("login")}
    assert logins == {"login_failed": recorded, "login": recorded}


@pytest.mark.parametrize("command", ["server", "serve"])
@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.internal", "127.0.0.1;rm"])
def test_a_bad_forwarded_allow_ips_entry_stops_the_start(
    command: str, value: str, gnomon_home: Path
) -> None:
    # uvicorn would keep such an entry as a literal that matches no peer, silently.
    line = fails(command, "--forwarded-allow-ips", f"127.0.0.1,{value}")
    assert f"--forwarded-allow-ips entry {value!r}" in line
