"""The Ray executor end to end: one real local Ray for the file, a real SQLite store, real files.

Ray takes seconds to start, so the file shares one ``ray.init(num_cpus=2)``; the executor
finds it initialised, uses it, and leaves it running for the next test.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from gnomon.errors import Unavailable, UserCodeError
from gnomon.pipelines.api import PipelinesApi
from gnomon.pipelines.runner import run_pipeline
from gnomon.sdk import Client
from tests.fixtures.ray_slot import SLOT_TIMEOUT, ray_slot
from tests.integration.pipelines import ray_steps as steps

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.timeout(SLOT_TIMEOUT)  # the first test waits for the Ray slot


@pytest.fixture(scope="module", autouse=True)
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with ray_slot(tmp_path_factory):
        ours = not ray.is_initialized()
        if ours:
            ray.init(
                num_cpus=2,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        yield
        if ours:
            ray.shutdown()


@pytest.fixture
def api(gnomon_home: Path) -> Iterator[PipelinesApi]:
    client = Client()
    yield cast(PipelinesApi, client.pipelines)
    client.close()


def _statuses(api: PipelinesApi, run_id: str) -> dict[str, str]:
    return {step.node: step.status for step in api.steps(run_id)}


def test_a_pipeline_runs_on_ray_workers_and_a_second_run_is_cached(api: PipelinesApi) -> None:
    first = run_pipeline(steps.diamond.build(), api, {"n": 3}, executor="ray")
    total, pid = first.output("add")
    assert total == 3 * 2 + (3 + 1)
    assert pid != os.getpid()  # a Ray worker ran it, not this process
    assert first.run.executor == "ray" and first.status == "succeeded"
    assert set(first.counts()) == {"succeeded"}
    again = run_pipeline(steps.diamond.build(), api, {"n": 3}, executor="ray")
    assert again.counts() == {"cached": 4}
    assert again.steps["add"].cached_from == first.steps["add"].id
    assert again.output("add") == [total, pid]
    changed = run_pipeline(steps.diamond.build(), api, {"n": 4}, executor="ray")
    assert changed.output("add")[0] == 4 * 2 + 4 + 1


def test_a_failing_step_is_named_while_the_other_branch_completes(api: PipelinesApi) -> None:
    with pytest.raises(UserCodeError, match="step 'boom' failed: ValueError: boom at 3") as info:
        run_pipeline(steps.half_broken.build(), api, {"n": 3}, executor="ray")
    run_id = info.value.details["run_id"]
    assert info.value.details["steps"] == ["boom"]
    assert _statuses(api, run_id) == {
        "source": "succeeded",
        "double": "succeeded",
        "inc": "succeeded",
        "boom": "failed",
        "inc-2": "skipped",
    }
    boom = next(s for s in api.steps(run_id) if s.node == "boom")
    assert boom.error is not None and "ValueError: boom at 3" in boom.error["traceback"]
    assert api.get_run(run_id).status == "failed"


def test_a_step_past_its_timeout_is_cancelled(api: PipelinesApi) -> None:
    started = time.monotonic()
    with pytest.raises(UserCodeError, match="step 'sleepy' failed: TimeoutError") as info:
        run_pipeline(steps.too_slow.build(), api, {"n": 3}, executor="ray")
    # The step sleeps 120 s, its timeout is 1 s: well under 120 s means it was stopped (a
    # loaded machine slows the rest of the run, so the bound leaves room).
    assert time.monotonic() - started < 90
    run_id = info.value.details["run_id"]
    assert _statuses(api, run_id) == {"sleepy": "failed", "inc": "skipped", "double": "succeeded"}
    sleepy = next(s for s in api.steps(run_id) if s.node == "sleepy")
    assert sleepy.error is not None and sleepy.error["timed_out"] is True


def test_a_crashed_worker_fails_its_step_only(api: PipelinesApi) -> None:
    with pytest.raises(UserCodeError, match="step 'crash' failed: WorkerDied") as info:
        run_pipeline(steps.crashing.build(), api, {"n": 3}, executor="ray")
    run_id = info.value.details["run_id"]
    assert _statuses(api, run_id) == {"crash": "failed", "inc": "skipped", "double": "succeeded"}


def test_workers_import_steps_from_the_drivers_sys_path(
    api: PipelinesApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a folder Ray does not give its workers (neither the working directory nor the script's)
    (tmp_path / "elsewhere_steps_for_ray.py").write_text(
        "import gnomon\n\n"
        "@gnomon.step\n"
        "def shout(word: str) -> str:\n"
        "    return word.upper()\n\n"
        "@gnomon.pipeline\n"
        "def loud(word: str = 'hi'):\n"
        "    return shout(word)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "elsewhere_steps_for_ray", raising=False)
    import elsewhere_steps_for_ray

    result = run_pipeline(
        elsewhere_steps_for_ray.loud.build(), api, {"word": "hey"}, executor="ray"
    )
    assert result.output("shout") == "HEY"


def test_an_unreachable_address_is_unavailable_before_anything_runs(api: PipelinesApi) -> None:
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"ray://127\.0\.0\.1:1"):
        run_pipeline(
            steps.diamond.build(), api, {"n": 3}, executor="ray", ray_address="ray://127.0.0.1:1"
        )
    assert time.monotonic() - started < 10
    assert api.list_runs() == []  # nothing was started or recorded
