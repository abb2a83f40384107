"""``GET /api/v1/metrics/features`` on a live server: after online lookups that found an
expired value, a global admin's scrape shows the stale count and the newest stored value's
age for that workspace and view, on this server and on another replica of it; anyone else
is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

from gnomon.features.api import FeatureStoreApi
from gnomon.features.definitions import Entity, FeatureView, Field, FileSource
from gnomon.features.service import FeatureRegistry
from tests.fixtures.server import ADMIN_PASSWORD, LiveServer, add_tenant, serve

METRICS = "/api/v1/metrics/features"
FRESH_AGE_S = 3600  # card "a": an hour old, inside the view's day


def test_lookups_through_the_server_are_scraped_per_workspace_and_view(
    auth_server: LiveServer, tmp_path: Path
) -> None:
    tenant = add_tenant(auth_server, "feature-metrics")
    services = auth_server.services.for_server()
    now = datetime.now(UTC)
    frame = pd.DataFrame(
        {
            "card": ["a", "b"],
            "amount": [3.5, 7.0],
            # "b" is three days old: past the view's TTL, so found but expired
            "event_timestamp": [now - timedelta(seconds=FRESH_AGE_S), now - timedelta(days=3)],
        }
    )
    frame.to_parquet(tmp_path / "cards.parquet")
    card = Entity("card", ("card",))
    view = FeatureView(
        "card_spend",
        (card,),
        FileSource(str(tmp_path / "cards.parquet")),
        (Field("amount"),),
        ttl=timedelta(days=1),
    )
    services.get(FeatureRegistry).apply(tenant.scope, [card, view])
    services.api(FeatureStoreApi, tenant.scope).materialize(progress=False)

    auth = auth_server.services.auth
    assert auth is not None
    admin, _ = auth.login("admin", ADMIN_PASSWORD)
    headers = {"Authorization": f"Bearer {tenant.token}", "X-Gnomon-Workspace": tenant.workspace}
    with httpx.Client(base_url=auth_server.url, headers=headers) as http:
        body = {"entities": {"card": ["b", "a", "zz"]}, "features": ["card_spend:amount"]}
        for _ in range(2):
            answer = http.post("/api/v1/features/online", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["results"]["amount"] == [None, 3.5, None]
        # One key asked a thousand times is one expired value found, not a thousand.
        repeated = {"entities": {"card": ["b"] * 1000}, "features": ["card_spend:amount"]}
        assert http.post("/api/v1/features/online", json=repeated).status_code == 200
        unknown = http.post("/api/v1/features/online", json={**body, "features": ["nope:amount"]})
        assert unknown.status_code == 404  # refused before any read: no series for it

        assert http.get(METRICS).status_code == 403  # the workspace's admin, not a global one
        scrape = http.get(METRICS, headers={"Authorization": f"Bearer {admin}"})
    assert httpx.get(auth_server.url + METRICS).status_code == 401  # no token
    assert scrape.status_code == 200, scrape.text
    assert scrape.headers["content-type"].startswith("text/plain")

    samples = _samples(scrape.text)
    labels = (("view", "card_spend"), ("workspace", tenant.workspace))  # its name, not its id
    assert samples[("gnomon_feature_stale_total", labels)] == 3  # "b", once a lookup
    age = samples[("gnomon_feature_age_seconds", labels)]
    assert FRESH_AGE_S <= age < FRESH_AGE_S + 600  # the newest stored: "a"'s, not "b"'s
    assert not [key for key in samples if ("view", "nope") in key[1]]

    # The counts live in the store: another replica of the server scrapes the same figures.
    with serve(auth_server.settings) as replica:
        again = httpx.get(replica.url + METRICS, headers={"Authorization": f"Bearer {admin}"})
    assert _samples(again.text)[("gnomon_feature_stale_total", labels)] == 3
    public = httpx.get(auth_server.url + "/metrics")
    assert public.status_code == 200 and "gnomon_feature" not in public.text


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
