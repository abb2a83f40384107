"""What runs a step task: the ``Executor`` protocol the runner drives, and how one is chosen."""

from __future__ import annotations

from typing import Protocol

from gnomon.errors import InvalidInput
from gnomon.pipelines.objects import ObjectsAddress
from gnomon.pipelines.task import StepOutcome, StepTask

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    name: str

    @property
    def capacity(self) -> int:
        """How many tasks it runs at once."""
        ...

    def submit(self, task: StepTask, cpus: float, gpus: float, timeout: float | None) -> None: ...

    def wait(self, timeout: float | None) -> list[StepOutcome]:
        """Outcomes finished since the last call; waits up to ``timeout`` for the first."""
        ...

    def close(self) -> None: ...


def open_executor(
    name: str,
    objects: ObjectsAddress,
    *,
    parallelism: int | None = None,
    ray_address: str | None = None,
    modules: tuple[str, ...] = (),
) -> Executor:
    if name == "local":
        from gnomon.pipelines.local import LocalExecutor

        return LocalExecutor(objects, parallelism, modules)
    if name == "ray":
        from gnomon.pipelines.ray_executor import RayExecutor

        return RayExecutor(objects, ray_address, parallelism)
    raise InvalidInput(f"unknown executor {name[:40]!r}: use one of {', '.join(EXECUTORS)}")


__all__ = ["EXECUTORS", "Executor", "open_executor"]
