"""Joining Ray when it fails to start: Ray's own errors become ``Unavailable`` with what to
do, and what a half-started local Ray left running is shut down.

Ray raises a bare ``Exception`` when its node misses its 30 s start-up (seen on a loaded
2-core machine); a real Ray cannot be made to miss it on demand, so these tests hand
``join_ray`` a stand-in for the ``ray`` module that fails as Ray does."""

from __future__ import annotations

import pytest

from gnomon.errors import Unavailable
from gnomon.pipelines.ray_executor import join_ray

STARTUP_TIMEOUT = (
    "The current node timed out during startup. This could happen because some of the "
    "raylet failed to startup or the GCS has become overloaded."
)


class FailingRay:
    """Fails ``init`` with ``error`` and records the calls it gets."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.calls: list[str] = []

    def is_initialized(self) -> bool:
        return False

    def init(self, **kwargs: object) -> None:
        self.calls.append(f"init {kwargs.get('address')}")
        raise self.error

    def shutdown(self) -> None:
        self.calls.append("shutdown")


def test_a_local_ray_that_misses_its_start_up_is_unavailable_and_shut_down() -> None:
    ray = FailingRay(Exception(STARTUP_TIMEOUT))
    with pytest.raises(Unavailable, match="cannot start a local Ray: The current node") as info:
        join_ray(ray, None)
    assert "ray start --head" in str(info.value)
    assert ray.calls == ["init None", "shutdown"]


def test_a_cluster_that_cannot_be_reached_is_named() -> None:
    ray = FailingRay(ConnectionError("GCS did not answer"))
    with pytest.raises(Unavailable, match=r"the Ray cluster at '10\.0\.0\.9:6379': GCS did"):
        join_ray(ray, "10.0.0.9:6379")
    assert ray.calls == ["init 10.0.0.9:6379", "shutdown"]


def test_an_interrupt_while_ray_starts_is_not_turned_into_unavailable() -> None:
    ray = FailingRay(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        join_ray(ray, None)
