"""`gnomon worker --once` with JSON logs, as a real process: each monitor run is a step with
an id of its own, naming its workspace and monitor; a worker that cannot reach its database
says so in one JSON line, without the password of the database's URI."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gnomon.monitoring.entities import MonitorSpec
from tests.fixtures.log_lines import Output, assert_no_secret, json_env, json_lines
from tests.fixtures.monitoring import HOUR, Served, frame
from tests.fixtures.processes import GNOMON

DB_PASSWORD = "Db-Password-Never-Logged-42"


def _worker(env: dict[str, str]) -> tuple[int, Output]:
    done = subprocess.run(
        [GNOMON, "worker", "--once"], env=env, capture_output=True, text=True, timeout=180
    )
    return done.returncode, Output(done.stdout, done.stderr)


def test_each_monitor_run_is_a_step_of_its_own(served: Served, gnomon_home: Path) -> None:
    for hour in range(2):
        served.write(frame(40, seed=hour), served.base_ms + hour * HOUR, f"h{hour}")
    for name in ("drift", "quality"):
        served.client.monitors.create(name, MonitorSpec("web", window_s=3600, schedule_s=60))
    code, output = _worker(json_env(GNOMON_HOME=str(gnomon_home)))
    assert code == 0, output.everything

    lines = json_lines(output.stderr, "worker")
    ran = {line["object"]: line for line in lines if line["message"].startswith("monitor ")}
    assert set(ran) == {"monitors/drift", "monitors/quality"}
    ids = {line["request_id"] for line in ran.values()}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)  # one id per run
    assert {line["workspace"] for line in ran.values()} == {served.client.scope.workspace}
    assert all("window(s) evaluated" in line["message"] for line in ran.values())


def test_an_unreachable_database_is_one_json_error_line(tmp_path: Path) -> None:
    uri = f"postgresql://gnomon:{DB_PASSWORD}@127.0.0.1:1/gnomon"
    code, output = _worker(json_env(GNOMON_HOME=str(tmp_path), GNOMON_URI=uri))
    assert code == 1 and output.stdout == ""
    lines = json_lines(output.stderr, "worker")
    error = lines[-1]
    assert (error["level"], error["logger"]) == ("ERROR", "gnomon.cli")
    assert error["message"] == "the metadata database is unavailable"
    assert_no_secret(output, [DB_PASSWORD])
