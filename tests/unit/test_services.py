"""The services registry: capabilities built on first use, once, and the server's copy."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from gnomon.config import Settings
from gnomon.services import ServiceRegistry


class Counter:
    def __init__(self) -> None:
        self.value = 0


def _printed(program: str, home: Path, cwd: Path | None = None) -> list[str]:
    """What ``program`` printed, run in a fresh interpreter on the embedded store at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_")}
    env["GNOMON_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_command_builds_only_the_capabilities_it_reaches(tmp_path: Path) -> None:
    modules = "('gnomon.registry.service', 'gnomon.deployments.service')"
    loaded = f"print(*(m in sys.modules for m in {modules}))\n"
    program = (
        "import sys, gnomon\n"
        "client = gnomon.Client()\n"
        f"client.list_experiments()\n{loaded}"
        f"client.deployments.list()\n{loaded}"
    )
    assert _printed(program, tmp_path) == ["False", "False", "True", "True"]


def test_a_run_that_writes_artifacts_loads_only_the_registrys_sealed_paths(
    tmp_path: Path,
) -> None:
    # Its first artifact write asks the registry for the run's sealed model paths: one query,
    # not the registry's service, store and client, nor data or features.
    modules = (
        "('gnomon.registry.sealed', 'gnomon.registry.service', 'gnomon.registry.sql', "
        "'gnomon.data.service', 'gnomon.features.service')"
    )
    loaded = f"print(*(m in sys.modules for m in {modules}))\n"
    program = (
        "import sys, gnomon\n"
        "with gnomon.start_run() as run:\n"
        "    gnomon.log_text('hello', 'notes.txt')\n"
        f"{loaded}"
        "print(len(gnomon.get_client().registry.search_models()))\n"
        f"{loaded}"
    )
    printed = _printed(program, tmp_path)
    assert printed == ["True", "False", "False", "False", "False", "0"] + ["True"] * 3 + [
        "False",
        "False",
    ]


def test_a_part_provided_later_is_made_on_its_first_lookup_once(tmp_path: Path) -> None:
    made: list[Counter] = []

    def make() -> Counter:
        time.sleep(0.05)  # long enough for the other threads to ask meanwhile
        made.append(Counter())
        return made[-1]

    def build(services: ServiceRegistry) -> None:
        services.provide_later("Counter", make)

    services = ServiceRegistry(Settings(home=tmp_path), builders=[build])
    found: list[Counter] = []
    askers = [threading.Thread(target=lambda: found.append(services.get(Counter))) for _ in "abc"]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert len(made) == 1 and found == made * 3


def test_the_servers_copy_shares_the_parts_provided_later(tmp_path: Path) -> None:
    def build(services: ServiceRegistry) -> None:
        services.provide_later("Counter", Counter)

    services = ServiceRegistry(Settings(home=tmp_path), builders=[build])
    twin = services.for_server()
    assert twin.get(Counter) is services.get(Counter)


def test_a_declared_provider_is_built_alone_and_once(tmp_path: Path) -> None:
    built: list[str] = []

    def first(services: ServiceRegistry) -> None:
        built.append("first")
        services.provide(Path, tmp_path)

    def second(services: ServiceRegistry) -> None:
        built.append("second")
        services.provide(Counter, Counter())

    services = ServiceRegistry(
        Settings(home=tmp_path), builders=[first, second], providers={"Counter": second}
    )
    counter = services.find(Counter)
    assert isinstance(counter, Counter) and built == ["second"]
    assert services.find(Path) == tmp_path and built == ["second", "first"]
    assert services.find(Counter) is counter and services.find(str) is None
    assert built == ["second", "first"]


def test_a_declared_api_is_built_alone(tmp_path: Path) -> None:
    built: list[str] = []

    def first(services: ServiceRegistry) -> None:
        built.append("first")
        services.expose("first", Path, lambda _: tmp_path)

    def second(services: ServiceRegistry) -> None:
        built.append("second")
        services.expose("second", Counter, lambda _: Counter())

    services = ServiceRegistry(
        Settings(home=tmp_path), builders=[first, second], providers={"second": second}
    )
    assert services.offers("second") and built == ["second"]
    assert services.offers("first") and built == ["second", "first"]
    assert not services.offers("third") and built == ["second", "first"]


def test_a_pipeline_run_builds_pipelines_alone_and_lineage_finds_the_rest(tmp_path: Path) -> None:
    others = (
        "'gnomon.data.service', 'gnomon.registry.service', 'gnomon.deployments.service', "
        "'gnomon.monitoring.service'"
    )
    loaded = f"print(*(m in sys.modules for m in ({others})))\n"
    (tmp_path / "flow.py").write_text(
        "import gnomon\n\n"
        "@gnomon.step\ndef one() -> int:\n    return 1\n\n"
        "@gnomon.pipeline\ndef flow():\n    return one()\n"
    )
    program = (
        "import sys, gnomon\n"
        "from flow import flow\n"
        "result = gnomon.run_pipeline(flow)\n"
        f"{loaded}"
        # a tracking run's lineage reads its dataset inputs and the models it produced
        "graph = gnomon.get_client().pipelines.lineage(f'run:{result.run.tracking_run_id}')\n"
        "print(any(node.kind == 'run' for node in graph.nodes))\n"
        f"{loaded}"
    )
    printed = _printed(program, tmp_path / "home", cwd=tmp_path)
    assert printed == ["False"] * 4 + ["True"] + ["True", "True", "False", "False"]


def test_concurrent_lookups_build_each_capability_once(tmp_path: Path) -> None:
    builds = Counter()
    started = threading.Barrier(8)

    def slow_build(services: ServiceRegistry) -> None:
        builds.value += 1
        time.sleep(0.05)  # every thread arrives while the first is still building
        services.provide(Counter, builds)

    services = ServiceRegistry(Settings(home=tmp_path), builders=[slow_build])
    found: list[Counter | None] = []

    def look() -> None:
        started.wait()
        found.append(services.find(Counter))

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds.value == 1
    assert found == [builds] * 8


def test_the_server_copy_applies_hooks_and_leaves_the_original(tmp_path: Path) -> None:
    def build(services: ServiceRegistry) -> None:
        services.provide(str, "embedded")
        services.on_server(lambda twin: twin.provide(str, "server"))

    services = ServiceRegistry(Settings(home=tmp_path), builders=[build])
    server = services.for_server()
    assert server.get(str) == "server"
    assert services.get(str) == "embedded"


def test_a_missing_part_names_what_is_missing(tmp_path: Path) -> None:
    services = ServiceRegistry(Settings(home=tmp_path))
    try:
        services.get(Counter)
    except Exception as exc:
        assert "Counter is not available" in str(exc)
    else:
        raise AssertionError("expected InvalidInput")


def test_asking_for_an_api_nobody_offers_contacts_no_server(tmp_path: Path) -> None:
    import gnomon

    # Nothing listens on port 9: any request would fail with Unavailable after retries.
    client = gnomon.Client("http://127.0.0.1:9", settings=Settings(home=tmp_path))
    assert not hasattr(client, "no_such_capability")
