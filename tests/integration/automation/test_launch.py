"""What ``gnomon run`` and ``gnomon reproduce`` share to run user code in a child process:
its environment, its failures as one error with the output's tail, git without ``ext::``,
and the runs it made found by a tag, against a real embedded store."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

import gnomon
from gnomon.automation.launch import (
    OUTPUT_TAIL,
    check_timeout,
    child_environment,
    git,
    run_child,
    runs_tagged,
)
from gnomon.errors import InvalidInput, UserCodeError
from gnomon.tracking.capture import RUN_TAGS_ENV


@pytest.mark.parametrize("timeout", [0, -1, math.nan, math.inf])
def test_a_timeout_must_be_a_positive_number_of_seconds(timeout: float) -> None:
    with pytest.raises(InvalidInput, match="timeout must be a positive number of seconds"):
        check_timeout(timeout)
    check_timeout(None)
    check_timeout(0.5)


def test_the_child_logs_to_this_store_with_the_launchers_tags_only(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUN_TAGS_ENV, json.dumps({"gnomon.project.uri": "inherited"}))
    client = gnomon.Client()
    env = child_environment(client, "churn", {"gnomon.project.launch": "abc"})
    assert (env["GNOMON_HOME"], env["GNOMON_EXPERIMENT"]) == (str(gnomon_home), "churn")
    assert env["GNOMON_CAPTURE_ENVIRONMENT"] == "true"
    assert json.loads(env[RUN_TAGS_ENV]) == {"gnomon.project.launch": "abc"}
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert RUN_TAGS_ENV not in child_environment(client, "churn")  # a launcher's, not ours


def test_a_failing_child_is_one_error_with_the_tail_of_its_output(tmp_path: Path) -> None:
    noisy = f"import sys; print('x' * {OUTPUT_TAIL * 2}); print('the end'); sys.exit(4)"
    with pytest.raises(UserCodeError) as failed:
        run_child("the job", [sys.executable, "-c", noisy], tmp_path, {}, None)
    assert failed.value.message.startswith("the job exited with status 4:\n")
    assert "the end" in failed.value.message
    assert len(failed.value.message) < OUTPUT_TAIL + 100
    slow = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(UserCodeError, match=r"the job ran past 0\.2 s"):
        run_child("the job", slow, tmp_path, {}, 0.2)
    with pytest.raises(InvalidInput, match="the job could not start"):
        run_child("the job", [str(tmp_path / "nothing")], tmp_path, {}, None)


def test_git_never_uses_the_ext_transport(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A git configured to allow ext:: (git's own default refuses it) is still refused it.
    for name, value in {"COUNT": "1", "KEY_0": "protocol.ext.allow", "VALUE_0": "always"}.items():
        monkeypatch.setenv(f"GIT_CONFIG_{name}", value)
    canary = tmp_path / "pwned"
    done = git(tmp_path, "clone", "-q", f"ext::sh -c touch% {canary}", str(tmp_path / "c"))
    assert done.returncode != 0 and not canary.exists()


def test_runs_are_found_by_a_tag_value_of_any_characters(gnomon_home: Path) -> None:
    client = gnomon.Client()
    experiment = client.tracking.get_or_create_experiment(client.scope, "churn")
    odd = "/tmp/it's \\ here/train.py"
    made = client.create_run(experiment.id, "a", tags={"gnomon.source.entry_point": odd})
    client.create_run(experiment.id, "b", tags={"gnomon.source.entry_point": "/tmp/other.py"})
    found = runs_tagged(client, "churn", "gnomon.source.entry_point", odd)
    assert [run.id for run in found] == [made.id]
    assert runs_tagged(client, "no-such-experiment", "gnomon.source.entry_point", odd) == []
