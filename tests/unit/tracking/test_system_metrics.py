"""System metrics: sampled on a thread while a run is active, stopped when it ends."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from pydantic import ValidationError

import gnomon
from gnomon.config import Settings
from gnomon.tracking.entities import RunStatus
from gnomon.tracking.system_metrics import THREAD_NAME, GpuProbe, sample_gpus

HOST_KEYS = {
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/disk_available_megabytes",
    "system/network_receive_megabytes",
    "system/network_transmit_megabytes",
}
CPU = "system/cpu_utilization_percentage"


@pytest.fixture
def client(gnomon_home: Path, monkeypatch: pytest.MonkeyPatch) -> gnomon.Client:
    monkeypatch.setenv("GNOMON_SYSTEM_METRICS_INTERVAL", "0.1")
    monkeypatch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
    return gnomon.get_client()


def _samplers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def _wait_for_samples(client: gnomon.Client, run_id: str, count: int = 2) -> None:
    """Until ``count`` samples are stored (opening the probes takes a while the first time)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        gnomon.flush()
        if len(client.get_metric_history(run_id, CPU)) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} samples of {CPU} within 10 s")


def _system_keys(client: gnomon.Client, run_id: str) -> set[str]:
    return {key for key in client.get_run(run_id).metrics if key.startswith("system/")}


def test_samples_are_logged_with_increasing_steps_until_the_run_ends(
    client: gnomon.Client,
) -> None:
    with gnomon.start_run(log_system_metrics=True) as run:
        _wait_for_samples(client, run.id, 3)
    assert not _samplers()  # stopped and joined when the with block ended
    steps = [m.step for m in client.get_metric_history(run.id, CPU)]
    assert len(steps) >= 3 and steps == list(range(len(steps)))
    keys = _system_keys(client, run.id)
    assert keys >= HOST_KEYS
    assert all(k in HOST_KEYS or k.startswith("system/gpu_") for k in keys)
    memory = client.get_run(run.id).metrics["system/system_memory_usage_percentage"]
    assert 0 < memory <= 100
    time.sleep(0.25)  # two more intervals: nothing arrives after the end
    assert len(client.get_metric_history(run.id, CPU)) == len(steps)


def test_off_by_default(client: gnomon.Client) -> None:
    with gnomon.start_run() as run:
        assert not _samplers()
        time.sleep(0.25)
    assert _system_keys(client, run.id) == set()


def test_the_environment_switches_it_on_and_start_run_overrides_it(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_SYSTEM_METRICS", "true")
    monkeypatch.setenv("GNOMON_SYSTEM_METRICS_INTERVAL", "0.1")
    client = gnomon.get_client()
    with gnomon.start_run() as on:
        _wait_for_samples(client, on.id, 1)
    with gnomon.start_run(log_system_metrics=False) as off:
        time.sleep(0.25)
    assert _system_keys(client, on.id) >= HOST_KEYS
    assert _system_keys(client, off.id) == set()


def test_a_failed_run_stops_sampling(client: gnomon.Client) -> None:
    with pytest.raises(ZeroDivisionError), gnomon.start_run(log_system_metrics=True) as run:
        _wait_for_samples(client, run.id, 1)
        _ = 1 / 0
    assert not _samplers()
    assert client.get_run(run.id).status is RunStatus.FAILED
    assert client.get_metric_history(run.id, CPU)


def test_nested_runs_sample_each_their_own(client: gnomon.Client) -> None:
    with gnomon.start_run(log_system_metrics=True) as parent:
        with gnomon.start_run(nested=True, log_system_metrics=True) as child:
            assert len(_samplers()) == 2
            _wait_for_samples(client, child.id, 1)
            _wait_for_samples(client, parent.id, 1)
        assert len(_samplers()) == 1


def test_a_failing_probe_is_dropped_and_the_others_go_on(
    client: gnomon.Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(path: str) -> None:
        raise OSError(f"cannot stat {path}")

    monkeypatch.setattr(psutil, "disk_usage", broken)
    with caplog.at_level(logging.WARNING), gnomon.start_run(log_system_metrics=True) as run:
        _wait_for_samples(client, run.id, 3)
    keys = _system_keys(client, run.id)
    assert CPU in keys and not any(key.startswith("system/disk_") for key in keys)
    assert client.get_run(run.id).status is RunStatus.FINISHED
    warnings = [r.getMessage() for r in caplog.records if "disk system metrics" in r.getMessage()]
    assert len(warnings) == 1 and "cannot stat" in warnings[0]  # said once, not per sample


def test_without_psutil_the_run_goes_on_without_host_metrics(
    client: gnomon.Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil now raises ImportError
    with caplog.at_level(logging.INFO), gnomon.start_run(log_system_metrics=True) as run:
        gnomon.log_metric("acc", 0.9)
        time.sleep(0.25)
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FINISHED and stored.metrics["acc"] == 0.9
    assert not _system_keys(client, run.id) & HOST_KEYS
    assert any("psutil is not installed" in r.getMessage() for r in caplog.records)


def test_gpus_are_sampled_only_where_nvml_answers() -> None:
    # Without NVML (this machine) nothing; on a GPU machine, each GPU's named quantities.
    values = sample_gpus()
    if GpuProbe.open() is None:
        assert values == {}
    else:
        assert "gpu_0_memory_usage_megabytes" in values
    assert all(key.startswith("gpu_") for key in values)


def test_the_interval_is_bounded() -> None:
    assert Settings().system_metrics_interval == 10
    for bad in (0.01, 0, -1, 3601):
        with pytest.raises(ValidationError):
            Settings(system_metrics_interval=bad)
