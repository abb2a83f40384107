"""Metrics of several worker processes, summed: workers that exited keep their counts, but
no longer count as requests in flight."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from gnomon.web.prometheus import MULTIPROCESS_ENV, exposition, shared_across

# A worker that answers two requests, is killed while a third is in flight, and never
# cleans up after itself.
_WORKER = """
from prometheus_client import CollectorRegistry
from gnomon.web.middleware import HttpMetrics
metrics = HttpMetrics(CollectorRegistry())
metrics.requests.labels("GET", "/x", "200").inc(2)
metrics.in_flight.inc()
"""


def test_several_workers_share_a_fresh_private_folder_removed_on_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROCESS_ENV, raising=False)
    with shared_across(workers=2):
        folder = Path(os.environ[MULTIPROCESS_ENV])
        assert folder.is_dir() and list(folder.iterdir()) == []
        assert folder.stat().st_mode & 0o777 == 0o700
        (folder / "counter_1.db").write_bytes(b"")
    assert MULTIPROCESS_ENV not in os.environ
    assert not folder.exists()
    with shared_across(workers=1):  # one worker: its own registry, nothing shared
        assert MULTIPROCESS_ENV not in os.environ


def test_an_exited_worker_keeps_its_counts_but_not_its_requests_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROCESS_ENV, raising=False)
    with shared_across(workers=2):
        for _ in range(2):  # two workers, each gone now
            subprocess.run([sys.executable, "-c", _WORKER], check=True, env=os.environ.copy())
        folder = os.environ[MULTIPROCESS_ENV]
        assert any(name.startswith("gauge_livesum_") for name in os.listdir(folder))
        body = exposition(CollectorRegistry()).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    key = (("method", "GET"), ("route", "/x"), ("status", "200"))
    assert samples[("gnomon_http_requests_total", key)] == 4
    assert samples.get(("gnomon_http_requests_in_flight", ()), 0) == 0
