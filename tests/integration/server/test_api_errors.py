"""Bad input of every kind gets the error JSON and the right status, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.server import ADMIN_PASSWORD, LiveServer


@pytest.fixture(scope="module")
def http(auth_server: LiveServer) -> httpx.Client:
    client = httpx.Client(base_url=auth_server.url)
    token = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert "Traceback" not in response.text
    return dict(body["error"])


def test_malformed_json_is_400(http: httpx.Client) -> None:
    response = http.post(
        "/api/v1/experiments", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert "malformed JSON" in str(_error(response, 400, "invalid_input")["message"])


def test_schema_violation_is_422_with_field_path(http: httpx.Client) -> None:
    response = http.post("/api/v1/runs/r1/batch", json={"metrics": [{"key": "a", "value": "x"}]})
    error = _error(response, 422, "invalid_input")
    fields = [e["field"] for e in error["details"]["errors"]]  # type: ignore[index]
    assert fields == ["metrics.0.value"]


def test_unknown_field_is_422(http: httpx.Client) -> None:
    response = http.post("/api/v1/experiments", json={"name": "x", "colour": "red"})
    assert "colour" in str(_error(response, 422, "invalid_input")["message"])


def test_oversized_body_is_413(http: httpx.Client) -> None:
    response = http.post("/api/v1/experiments", json={"name": "x" * 100_000})
    _error(response, 413, "payload_too_large")


def test_oversized_streamed_body_is_413(http: httpx.Client) -> None:
    def chunks():  # no Content-Length: the limit is counted while streaming
        for _ in range(100):
            yield b"x" * 1024

    response = http.post(
        "/api/v1/experiments", content=chunks(), headers={"content-type": "application/json"}
    )
    _error(response, 413, "payload_too_large")


def test_unknown_route_is_404(http: httpx.Client) -> None:
    assert "no route" in str(_error(http.get("/api/v1/nothing-here"), 404, "not_found")["message"])


def test_wrong_method_is_405(http: httpx.Client) -> None:
    _error(http.put("/api/v1/experiments"), 405, "invalid_input")


def test_missing_and_bad_tokens_are_401(auth_server: LiveServer) -> None:
    anonymous = httpx.Client(base_url=auth_server.url)
    _error(anonymous.get("/api/v1/experiments"), 401, "unauthenticated")
    forged = {"Authorization": "Bearer gnm_not-a-real-token"}
    _error(anonymous.get("/api/v1/experiments", headers=forged), 401, "unauthenticated")
    _error(
        anonymous.get("/api/v1/experiments", headers={"Authorization": "Basic x"}),
        401,
        "unauthenticated",
    )


def test_unknown_workspace_is_404(http: httpx.Client) -> None:
    response = http.get("/api/v1/experiments", headers={"X-Gnomon-Workspace": "nowhere"})
    assert "workspace 'nowhere'" in str(_error(response, 404, "not_found")["message"])


def test_bad_query_parameter_is_422(http: httpx.Client) -> None:
    response = http.get("/api/v1/experiments", params={"max_results": "lots"})
    error = _error(response, 422, "invalid_input")
    assert error["details"]["errors"][0]["field"] == "max_results"  # type: ignore[index]


def test_request_id_is_echoed_or_made(http: httpx.Client) -> None:
    assert (
        http.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    assert len(http.get("/healthz").headers["x-request-id"]) == 32


def test_health_ready_metrics(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json() == {"status": "ready"}
    http.get("/api/v1/experiments")
    metrics = http.get("/metrics").text
    assert (
        'gnomon_http_requests_total{method="GET",route="/api/v1/experiments",status="200"}'
        in metrics
    )
    assert "gnomon_http_request_seconds_bucket" in metrics
    assert "gnomon_http_requests_in_flight" in metrics


def test_openapi_and_docs(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    assert "/api/v1/runs/search" in spec["paths"]
    assert http.get("/docs").status_code == 200


def test_artifact_upload_over_the_limit_is_413(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures.server import serve, server_settings

    settings = server_settings(f"sqlite:///{tmp_path / 'g.db'}", tmp_path, max_artifact_bytes=4096)
    with serve(settings, no_auth=True) as live, httpx.Client(base_url=live.url) as http:
        exp = http.post("/api/v1/experiments", json={"name": "limits"}).json()
        run = http.post("/api/v1/runs", json={"experiment_id": exp["id"]}).json()
        url = f"/api/v1/runs/{run['id']}/artifacts/big.bin"
        assert http.put(url, content=b"x" * 4000).status_code == 204
        _error(http.put(url, content=b"x" * 5000), 413, "payload_too_large")
        listed = http.get(f"/api/v1/runs/{run['id']}/artifacts").json()
        assert listed == [{"path": "big.bin", "is_dir": False, "size": 4000}]  # old file kept
