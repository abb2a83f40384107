"""Joining Ray when it fails: Ray's errors become ``Unavailable`` (or ``InvalidInput`` for an
address it refuses) saying what to do, and what a half-started local Ray left running stops.

Ray raises a bare ``Exception`` when its node misses its 30 s start-up (seen on a loaded
2-core machine), from inside the node's constructor, with its GCS and raylet already running.
A real Ray cannot be made to miss it on demand, so these tests hand ``join_ray`` a stand-in
for the ``ray`` module that fails as Ray does, after starting a real process from its own
package folder as Ray starts its GCS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gnomon.errors import InvalidInput, Unavailable
from gnomon.pipelines.ray_executor import join_ray

STARTUP_TIMEOUT = (
    "The current node timed out during startup. This could happen because some of the "
    "raylet failed to startup or the GCS has become overloaded."
)


class FailingRay:
    """Fails ``init`` with ``error``, after starting ``server`` (a script in its package
    folder) when given one, and records the calls it gets."""

    def __init__(self, error: BaseException, package: Path, server: bool = False) -> None:
        self.__file__ = str(package / "__init__.py")
        self.error = error
        self.calls: list[str] = []
        self.started: list[subprocess.Popen[bytes]] = []
        self.joined_meanwhile = False  # another thread's ray.init won the race
        if server:
            (package / "gcs_server.py").write_text("import time\ntime.sleep(120)\n")

    def is_initialized(self) -> bool:
        return self.joined_meanwhile and bool(self.calls)

    def init(self, **kwargs: object) -> None:
        self.calls.append(f"init {kwargs.get('address')}")
        script = Path(self.__file__).with_name("gcs_server.py")
        if script.exists():
            self.started.append(subprocess.Popen([sys.executable, str(script)]))
        raise self.error

    def shutdown(self) -> None:
        self.calls.append("shutdown")


def test_a_local_ray_that_misses_its_start_up_is_unavailable_and_what_it_started_stops(
    tmp_path: Path,
) -> None:
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    ray = FailingRay(Exception(STARTUP_TIMEOUT), tmp_path, server=True)
    try:
        with pytest.raises(Unavailable, match="cannot start a local Ray: The current node") as e:
            join_ray(ray, None)
        assert "ray start --head" in str(e.value)
        assert ray.calls == ["init None", "shutdown"]
        (server,) = ray.started
        # stopped (and reaped, so its code reads 0), not left to sleep its two minutes
        server.wait(timeout=10)
        assert unrelated.poll() is None  # a child that is not Ray's is left alone
    finally:
        unrelated.kill()
        unrelated.wait()


def test_other_failures_to_start_give_no_advice_about_load(tmp_path: Path) -> None:
    ray = FailingRay(RuntimeError("plasma store could not start"), tmp_path)
    with pytest.raises(Unavailable, match="cannot start a local Ray: plasma store") as e:
        join_ray(ray, None)
    assert "ray start" not in str(e.value)


def test_a_cluster_that_cannot_be_reached_is_named(tmp_path: Path) -> None:
    ray = FailingRay(ConnectionError("GCS did not answer"), tmp_path)
    with pytest.raises(Unavailable, match=r"the Ray cluster at '10\.0\.0\.9:6379': GCS did"):
        join_ray(ray, "10.0.0.9:6379")
    assert ray.calls == ["init 10.0.0.9:6379", "shutdown"]


def test_an_address_ray_refuses_is_invalid_input_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "no-port-here")  # what ray.init reads when given none
    ray = FailingRay(ValueError("Invalid address format"), tmp_path)
    with pytest.raises(InvalidInput, match="Ray refused the address 'no-port-here'"):
        join_ray(ray, None)


def test_a_ray_another_thread_joined_meanwhile_is_not_shut_down(tmp_path: Path) -> None:
    ray = FailingRay(RuntimeError("Maybe you called ray.init twice by accident?"), tmp_path)
    ray.joined_meanwhile = True
    with pytest.raises(Unavailable):
        join_ray(ray, None)
    assert ray.calls == ["init None"]


def test_an_interrupt_while_ray_starts_is_not_turned_into_unavailable(tmp_path: Path) -> None:
    ray = FailingRay(KeyboardInterrupt(), tmp_path)
    with pytest.raises(KeyboardInterrupt):
        join_ray(ray, None)
