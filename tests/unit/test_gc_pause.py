"""``gnomon._gc.collection_paused``: no automatic collection while a client opens, and the
collector afterwards as the caller had it."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gnomon._gc import collection_paused


def test_pauses_nest_and_the_last_one_out_resumes() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause is still under way
    assert gc.isenabled()


@contextmanager
def pause_held_by_another_thread() -> Iterator[None]:
    inside = threading.Event()
    leave = threading.Event()

    def holder() -> None:
        with collection_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert inside.wait(10)
        yield
    finally:
        leave.set()
        thread.join(10)


def test_a_pause_in_another_thread_keeps_collection_off_until_it_ends() -> None:
    with pause_held_by_another_thread():
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # ours ended; the other thread's has not
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_new_client_opens_without_the_collections_its_imports_would_set_off(
    tmp_path: Path,
) -> None:
    # A fresh process, so the store's modules are imported as a user's first client does;
    # unpaused, the same opening set off 151 collections here.
    script = (
        "import gc, gnomon\n"
        "started = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and started.append(1))\n"
        "gnomon.Client()\n"
        "print(len(started), gc.isenabled())\n"
    )
    env = {**os.environ, "GNOMON_HOME": str(tmp_path / "home")}
    env.pop("GNOMON_URI", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    collections, enabled = done.stdout.split()
    assert int(collections) < 20
    assert enabled == "True"


def test_a_child_forked_during_another_threads_pause_collects_again() -> None:
    with pause_held_by_another_thread():
        pid = os.fork()
        if pid == 0:  # the child: the holding thread is not here to end its pause
            ok = gc.isenabled()
            with collection_paused():  # and the lock it may have held is not held here
                ok = ok and not gc.isenabled()
            os._exit(0 if ok and gc.isenabled() else 1)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert gc.isenabled()
