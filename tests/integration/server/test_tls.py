"""HTTPS end to end: the server serves a certificate, the client verifies it."""

from __future__ import annotations

from pathlib import Path

import pytest

import gnomon
from gnomon.errors import Unavailable
from tests.fixtures.server import ADMIN_PASSWORD, serve, server_settings
from tests.fixtures.tls import self_signed


def test_https_with_a_custom_ca_bundle(
    tmp_path: Path, gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    settings = server_settings(f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "srv")
    with serve(settings, ssl_certfile=str(cert), ssl_keyfile=str(key)) as live:
        assert live.url.startswith("https://")
        assert live.services.auth is not None
        live.services.auth.bootstrap_admin(ADMIN_PASSWORD)
        token, _ = live.services.auth.login("admin", ADMIN_PASSWORD)
        monkeypatch.setenv("GNOMON_URI", live.url)
        monkeypatch.setenv("GNOMON_TOKEN", token)

        # Without the CA bundle the self-signed certificate is refused.
        with pytest.raises(Unavailable, match="CERTIFICATE_VERIFY_FAILED"):
            gnomon.Client(settings=gnomon.Settings()).create_experiment("nope")

        monkeypatch.setenv("GNOMON_CA_BUNDLE", str(cert))
        gnomon.set_experiment("tls")
        with gnomon.start_run(name="secure") as run:
            gnomon.log_metric("acc", 0.9)
        assert gnomon.Client().get_run(run.id).metrics == {"acc": 0.9}
