"""``POST /api/v1/features/online`` on a live server: a viewer reads the freshest values, an
unknown view is a 404 naming it, and the body is bounded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd

from gnomon.features.api import FeatureStoreApi
from gnomon.features.definitions import Entity, FeatureView, Field, FileSource
from gnomon.features.service import FeatureRegistry
from tests.fixtures.server import LiveServer, add_tenant


def test_a_viewer_reads_online_values_and_bad_requests_are_named(
    auth_server: LiveServer, tmp_path: Path
) -> None:
    tenant = add_tenant(auth_server, "features-online")
    services = auth_server.services.for_server()
    now = datetime.now(UTC)
    frame = pd.DataFrame({"card": ["a", "b"], "amount": [3.5, 7.0], "event_timestamp": [now, now]})
    frame.to_parquet(tmp_path / "cards.parquet")
    card = Entity("card", ("card",))
    view = FeatureView(
        "card_amounts", (card,), FileSource(str(tmp_path / "cards.parquet")), (Field("amount"),)
    )
    services.get(FeatureRegistry).apply(tenant.scope, [card, view])
    services.api(FeatureStoreApi, tenant.scope).materialize(progress=False)

    headers = {"Authorization": f"Bearer {tenant.token}", "X-Gnomon-Workspace": tenant.workspace}
    url = f"{auth_server.url}/api/v1/features/online"
    body = {"entities": {"card": ["b", "a", "zz"]}, "features": ["card_amounts:amount"]}
    answer = httpx.post(url, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == {"card": ["b", "a", "zz"], "amount": [7.0, 3.5, None]}

    unknown = httpx.post(url, json={**body, "features": ["nope:amount"]}, headers=headers)
    assert unknown.status_code == 404 and "'nope'" in unknown.json()["error"]["message"]
    too_many = {"entities": {"card": ["x"] * 1001}, "features": ["card_amounts"]}
    assert httpx.post(url, json=too_many, headers=headers).status_code == 422
    long = "v" * 10_000  # no name is that long: refused before a lookup, not echoed in a 404
    for odd_name in ({"features": [long]}, {"service": long, "features": None}):
        refused = httpx.post(url, json={**body, **odd_name}, headers=headers)
        assert refused.status_code == 422 and long not in refused.text, odd_name
    long_key = {**body, "entities": {long: ["a"]}}
    assert httpx.post(url, json=long_key, headers=headers).status_code == 422
    assert httpx.post(url, json=body).status_code == 401
    for odd in ([1.5], [True], [{"a": 1}], [None]):  # keys of no stored kind: refused, not a 500
        refused = httpx.post(url, json={**body, "entities": {"card": odd}}, headers=headers)
        assert refused.status_code in (404, 422), (odd, refused.text)
