"""deploy/compose: a Compose file valid against the Compose Specification's schema, whose
services start in order, keep their secrets in .env, listen on loopback only, and whose
Prometheus and Grafana files point at what exists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from gnomon._version import __version__
from tests.unit.deploy.compose import (
    COMPOSE,
    STACK,
    Unset,
    env_file,
    host_path,
    in_container,
    interpolate,
    load,
    mounts,
    variables,
)

SCHEMA = Path(__file__).resolve().parents[2] / "fixtures" / "schemas" / "compose-spec.json"
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "MINIO_ROOT_PASSWORD",
           "GNOMON_ADMIN_PASSWORD", "GRAFANA_ADMIN_PASSWORD")  # fmt: skip
GNOMON = ("migrations", "server", "worker", "tokens", "model")


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """env.example with every password filled in, as a user's .env."""
    given = env_file(STACK / "env.example")
    return {**given, **{name: f"test-{name.lower()}" for name in SECRETS}}


@pytest.fixture(scope="module")
def stack(env: dict[str, str]) -> dict[str, Any]:
    return load(env)


@pytest.fixture(scope="module")
def services(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = stack["services"]
    return found


def test_the_file_is_valid_compose(stack: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema).validate(stack)
    broken = {**stack, "services": {**stack["services"], "server": {"imagee": "x"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)


def test_the_full_stack_is_there(services: dict[str, dict[str, Any]]) -> None:
    for needed in ("server", "worker", "postgres", "redis", "minio", "prometheus", "grafana"):
        assert needed in services
    for name in GNOMON:
        assert services[name]["image"] == f"gnomon-server:{__version__}"  # GNOMON_IMAGE unset
    assert services["server"]["command"][:2] == ["gnomon", "server"]
    assert services["worker"]["command"] == ["gnomon", "worker"]
    assert services["migrations"]["command"] == ["gnomon", "db", "upgrade"]
    assert "--no-monitors" in services["server"]["command"]  # the worker runs them


def test_passwords_come_from_env_and_a_missing_one_stops_the_stack(env: dict[str, str]) -> None:
    text = COMPOSE.read_text()
    assert variables(text) <= env.keys()  # env.example names every variable used
    example = env_file(STACK / "env.example")
    for name in SECRETS:
        assert example[name] == ""  # the user sets each one
        assert re.search(rf"\$\{{{name}:\?", text), name
        without = {**env, name: ""}
        with pytest.raises(Unset, match=name):
            load(without)
    assert (STACK / ".gitignore").read_text().split() == [".env"]


def test_services_start_in_order(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for needed, how in service.get("depends_on", {}).items():
            condition = how["condition"]
            assert needed in services, f"{name} depends on a missing {needed}"
            if condition == "service_healthy":
                assert "healthcheck" in services[needed], f"{needed} has no healthcheck"
            elif condition == "service_completed_successfully":
                assert services[needed]["restart"] == "no", f"{needed} would never complete"
    order = {"server": "migrations", "migrations": "postgres", "worker": "server"}
    for name, first in order.items():
        assert first in services[name]["depends_on"]
    assert "buckets" in services["migrations"]["depends_on"]


def test_ports_listen_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published and all(port.startswith("127.0.0.1:") for port in published)


def test_gnomon_runs_with_a_read_only_root_and_no_privileges(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in GNOMON:
        service = services[name]
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert set(service["tmpfs"]) == {"/tmp", "/var/lib/gnomon"}


def test_every_mount_names_a_file_or_a_declared_volume(
    stack: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    for name, service in services.items():
        for target, source in mounts(service).items():
            host = host_path(source)
            if host is None:
                assert source in stack["volumes"], f"{name}: volume {source} not declared"
            else:
                assert host.exists(), f"{name}: {source} for {target} does not exist"


def _prometheus(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    config = services["prometheus"]
    host = in_container(config, "/etc/prometheus/prometheus.yml")
    assert host is not None and isinstance(host[1], Path)
    loaded: dict[str, Any] = yaml.safe_load(host[1].read_text())
    return loaded


def test_prometheus_scrapes_the_stack_and_reads_the_token_the_stack_makes(
    services: dict[str, dict[str, Any]],
) -> None:
    config = _prometheus(services)
    prometheus = services["prometheus"]
    for rule in config["rule_files"]:
        found = in_container(prometheus, f"/etc/prometheus/{rule}")
        assert found is not None and isinstance(found[1], Path) and found[1].is_file()
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    authenticated = ("gnomon-monitors", "gnomon-rollouts", "gnomon-features")
    assert set(jobs) == {"gnomon-server", *authenticated, "gnomon-serve"}
    server_port = services["server"]["command"][services["server"]["command"].index("--port") + 1]
    for job in jobs.values():
        for target in (t for c in job.get("static_configs", []) for t in c["targets"]):
            assert target == f"server:{server_port}"
        for names in job.get("dns_sd_configs", []):
            assert set(names["names"]) <= services.keys()
    for name in authenticated:
        token = jobs[name]["authorization"]["credentials_file"]
        found = in_container(prometheus, token)
        assert found is not None, f"{token} is on no mount"
        # The volume the tokens service writes, under the name its script writes.
        writes = in_container(services["tokens"], "/tokens/prometheus")
        assert writes is not None and writes[1] == found[1]
    script = (STACK / "make-tokens.sh").read_text()
    assert '"$dir/prometheus" 65534' in script  # readable by Prometheus' user only
    served = services["model"]["environment"]["GNOMON_DEPLOYMENT"]
    assert jobs["gnomon-serve"]["relabel_configs"][0]["replacement"] == served


def test_grafana_provisions_the_data_source_and_the_dashboards(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana = services["grafana"]
    provisioning = in_container(grafana, "/etc/grafana/provisioning")
    assert provisioning is not None and isinstance(provisioning[1], Path)
    sources = yaml.safe_load((provisioning[1] / "datasources" / "prometheus.yml").read_text())
    source = sources["datasources"][0]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    url = urlsplit(source["url"])
    assert url.hostname == "prometheus" and url.port == 9090
    providers = yaml.safe_load((provisioning[1] / "dashboards" / "gnomon.yml").read_text())
    folder = in_container(grafana, providers["providers"][0]["options"]["path"])
    assert folder is not None and isinstance(folder[1], Path)
    dashboards = sorted(p.name for p in folder[1].glob("*.json"))
    assert "gnomon-deployment.json" in dashboards
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    found = in_container(grafana, home)
    assert found is not None and isinstance(found[1], Path) and found[1].is_file()


def test_the_interpolation_follows_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d} ${MISSING:-d} ${EMPTY:-d} ${EMPTY-d} $$SET $SET", env) == (
        "x d d  $SET x"
    )
    with pytest.raises(Unset, match="EMPTY: needed"):
        interpolate("${EMPTY:?needed}", env)
    assert interpolate("${EMPTY?needed}", env) == ""


def _compose_works() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_works(), reason="docker compose is missing")
def test_docker_compose_reads_the_file(env: dict[str, str], tmp_path: Path) -> None:
    env_path = tmp_path / ".env"
    env_path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    command = ["docker", "compose", "--env-file", str(env_path), "-f", str(COMPOSE)]
    result = subprocess.run(
        [*command, "--profile", "serve", "config", "--quiet"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
