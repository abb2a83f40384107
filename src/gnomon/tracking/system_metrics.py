"""System metrics during a run: CPU, memory, disk, network and NVIDIA GPUs.

``start_run(log_system_metrics=True)`` (or ``GNOMON_SYSTEM_METRICS=true``) starts a
``SystemMetricsMonitor``: a daemon thread that samples every
``GNOMON_SYSTEM_METRICS_INTERVAL`` seconds and logs one point per metric, named as MLflow
names them (``system/cpu_utilization_percentage``, ``system/gpu_0_memory_usage_megabytes``)
with the sample number as step, through the fluent buffer. ``end_run`` stops it before
waiting for the buffer, so no point reaches a run that ended. The host is read through
psutil (the ``system`` extra), GPUs through NVML (``nvidia-ml-py``, the ``gpu`` extra).

Sampling is best effort: nothing here raises into the caller. A probe that fails is logged
once and left out from then on; a machine without NVML simply has no GPU metrics.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from gnomon.tracking.entities import Metric

logger = logging.getLogger(__name__)

PREFIX = "system/"
MEGABYTE = 1e6  # MLflow's unit, so charts of runs moved from MLflow line up
THREAD_NAME = "gnomon-system-metrics"

Probe = Callable[[], dict[str, float]]


# -- the host, through psutil ----------------------------------------------------------------


def host_probes(disk_path: str | None = None) -> dict[str, Probe]:
    """CPU, memory, disk and network probes; none when psutil is not installed.

    Call it on the thread that samples: CPU utilisation is measured per thread between two
    calls, so the first sample covers the time since this call. Network counts what was
    received and sent since this call.
    """
    try:
        import psutil
    except ImportError:
        logger.info("gnomon: no CPU, memory, disk or network metrics: psutil is not installed")
        return {}
    path = disk_path or os.path.abspath(os.sep)
    psutil.cpu_percent(interval=None)  # starts the measure; this first answer is meaningless
    start = psutil.net_io_counters()

    def cpu() -> dict[str, float]:
        return {"cpu_utilization_percentage": psutil.cpu_percent(interval=None)}

    def memory() -> dict[str, float]:
        used = psutil.virtual_memory()
        return {
            "system_memory_usage_megabytes": used.used / MEGABYTE,
            "system_memory_usage_percentage": used.percent,
        }

    def disk() -> dict[str, float]:
        usage = psutil.disk_usage(path)
        return {
            "disk_usage_percentage": usage.percent,
            "disk_usage_megabytes": usage.used / MEGABYTE,
            "disk_available_megabytes": usage.free / MEGABYTE,
        }

    def network() -> dict[str, float]:
        now = psutil.net_io_counters()
        return {
            "network_receive_megabytes": (now.bytes_recv - start.bytes_recv) / MEGABYTE,
            "network_transmit_megabytes": (now.bytes_sent - start.bytes_sent) / MEGABYTE,
        }

    return {"cpu": cpu, "memory": memory, "disk": disk, "network": network}


# -- NVIDIA GPUs, through NVML ---------------------------------------------------------------


class GpuProbe:
    """Utilisation, memory and power of each NVIDIA GPU; ``open()`` is ``None`` where NVML
    cannot start (no driver, no GPU, nvidia-ml-py missing)."""

    def __init__(self, nvml: Any, handles: list[Any]) -> None:
        self._nvml = nvml
        self._handles = handles

    @classmethod
    def open(cls) -> GpuProbe | None:
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception as exc:  # ImportError, or NVMLError: no library, no driver
            logger.debug("gnomon: no GPU metrics: NVML is not available (%s)", exc)
            return None
        try:
            count = pynvml.nvmlDeviceGetCount()
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception as exc:
            logger.debug("gnomon: no GPU metrics: NVML cannot list the GPUs (%s)", exc)
            handles = []
        if not handles:
            pynvml.nvmlShutdown()
            return None
        return cls(pynvml, handles)

    def sample(self) -> dict[str, float]:
        """One value per GPU and quantity; a quantity a GPU does not report is left out."""
        nvml, values = self._nvml, {}
        for index, handle in enumerate(self._handles):
            name = f"gpu_{index}"
            utilization = _read(nvml, nvml.nvmlDeviceGetUtilizationRates, handle)
            if utilization is not None:
                values[f"{name}_utilization_percentage"] = float(utilization.gpu)
            memory = _read(nvml, nvml.nvmlDeviceGetMemoryInfo, handle)
            if memory is not None:
                values[f"{name}_memory_usage_megabytes"] = memory.used / MEGABYTE
                if memory.total:
                    values[f"{name}_memory_usage_percentage"] = memory.used / memory.total * 100
            milliwatts = _read(nvml, nvml.nvmlDeviceGetPowerUsage, handle)
            if milliwatts is not None:
                values[f"{name}_power_usage_watts"] = milliwatts / 1000
        return values

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception as exc:
            logger.debug("gnomon: NVML did not shut down cleanly (%s)", exc)


def _read(nvml: Any, query: Callable[[Any], Any], handle: Any) -> Any:
    try:
        return query(handle)
    except nvml.NVMLError:  # e.g. NotSupported: power on some boards, utilisation under MIG
        return None


def sample_gpus() -> dict[str, float]:
    """One sample of every GPU, named as logged without the ``system/`` prefix (``{}``
    without NVML): to check a machine's GPUs are seen.

    Example:
        >>> sample_gpus()
        {'gpu_0_utilization_percentage': 97.0, 'gpu_0_memory_usage_megabytes': 40211.3, ...}
    """
    probe = GpuProbe.open()
    if probe is None:
        return {}
    try:
        return probe.sample()
    finally:
        probe.close()


# -- the sampling thread ---------------------------------------------------------------------


class SystemMetricsMonitor:
    """Samples the host and GPUs every ``interval`` seconds on a daemon thread and hands each
    sample to ``log`` as ``system/...`` metrics, step 0 first. The probes open on the thread,
    so starting costs the caller only a thread."""

    def __init__(self, log: Callable[[Metric], None], interval: float) -> None:
        self.interval = interval
        self.samples = 0
        self._log = log
        self._probes: dict[str, Probe] = {}
        self._lock = threading.Lock()  # a sample is logged whole, and never after stop()
        self._stopping = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)

    def start(self) -> SystemMetricsMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling; nothing is logged once this returns. Never raises."""
        with self._lock:
            self._stopped = True
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)  # a hung NVML call must not hang end_run

    def sample(self) -> dict[str, float]:
        """Every probe's values; a probe that fails is logged once and dropped."""
        values: dict[str, float] = {}
        for name, probe in list(self._probes.items()):
            try:
                values.update(probe())
            except Exception as exc:
                logger.warning("gnomon: stopped sampling %s system metrics: %s", name, exc)
                del self._probes[name]
        return values

    def _run(self) -> None:
        gpu = None
        try:
            self._probes = host_probes()
            gpu = GpuProbe.open()
            if gpu is not None:
                self._probes["gpu"] = gpu.sample
            if not self._probes:
                logger.warning(
                    "gnomon: no system metrics: psutil is not installed "
                    "(pip install 'gnomon[system]') and NVML found no GPU"
                )
            while self._probes and not self._stopping.wait(self.interval):
                self._log_sample(self.sample())
        except Exception:  # never let sampling take the user's program down
            logger.exception("gnomon: system metrics sampling failed; it stops here")
        finally:
            if gpu is not None:
                gpu.close()

    def _log_sample(self, values: dict[str, float]) -> None:
        when = int(time.time() * 1000)
        with self._lock:
            if self._stopped or not values:
                return
            for key, value in values.items():
                self._log(Metric(PREFIX + key, float(value), self.samples, when))
            self.samples += 1
