"""requirements.lock: everything gnomon and a model need, each at one exact version."""

from __future__ import annotations

import importlib.metadata

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gnomon.errors import InvalidInput
from gnomon.serving.image_lock import lock
from tests.unit.serving.image_checks import EXACT


def _locked(pins: list[str]) -> dict[str, str]:
    return {canonicalize_name(p.split("==")[0]): p.split("==")[1] for p in pins}


def test_every_pin_is_exact_and_the_version_installed_here() -> None:
    locked = lock(["sklearn"])
    assert locked.pins and all(EXACT.match(pin) for pin in locked.pins)
    assert locked.pins == sorted(locked.pins, key=lambda p: canonicalize_name(p.split("==")[0]))
    versions = _locked(locked.pins)
    assert "gnomon" not in versions  # gnomon comes from its wheel
    for name, version in versions.items():
        assert importlib.metadata.version(name) == version, name


def test_the_lock_is_closed_under_dependencies() -> None:
    """Installed with --no-deps, the lock must hold what each locked package needs."""
    versions = _locked(lock(["sklearn", "s3"]).pins)
    environment = {**default_environment(), "sys_platform": "linux", "extra": ""}
    for name in versions:
        for raw in importlib.metadata.distribution(name).requires or []:
            needed = Requirement(raw)
            if needed.marker is None or needed.marker.evaluate(environment):
                assert canonicalize_name(needed.name) in versions, f"{name} needs {needed}"
    # gnomon's core dependencies, their own (starlette under fastapi) and the extras' libraries.
    assert {"fastapi", "starlette", "sqlalchemy", "scikit-learn", "scipy", "s3fs"} <= set(versions)
    assert "uvloop" in versions  # uvicorn[standard] on Linux: the extra of a dependency


def test_extras_decide_what_is_locked() -> None:
    plain = _locked(lock([]).pins)
    server = _locked(lock(["postgres", "redis", "s3"]).pins)
    assert not {"scikit-learn", "psycopg", "s3fs", "redis"} & set(plain)
    assert {"psycopg", "psycopg-binary", "s3fs", "redis", "botocore"} <= set(server)
    assert set(plain) < set(server)


def test_the_model_pins_win_with_a_warning() -> None:
    installed = importlib.metadata.version("six")
    older = "1.16.0" if installed != "1.16.0" else "1.15.0"
    locked = lock([], [f"six=={older}"])
    assert f"six=={older}" in locked.pins and f"six=={installed}" not in locked.pins
    assert any(f"six=={older}" in w and installed in w for w in locked.warnings)
    same = lock([], [f"six=={installed}"])
    assert same.warnings == [] and f"six=={installed}" in same.pins


def test_a_pin_outside_a_declared_range_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"numpy==1\.0\.0, but .* needs numpy>="):
        lock([], ["numpy==1.0.0"])


def test_a_package_not_installed_here_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"gnomon-no-such-lib .*not installed here") as refused:
        lock([], ["gnomon-no-such-lib==1.0"])
    assert refused.value.details == {"package": "gnomon-no-such-lib"}
    with pytest.raises(InvalidInput, match="is not a requirement"):
        lock([], ["not a requirement =="])


def test_the_text_says_how_it_is_installed() -> None:
    text = lock([]).text("gnomon build-image: a title")
    assert text.startswith("# gnomon build-image: a title\n")
    assert "pip install --no-deps -r requirements.lock" in text
    assert [line for line in text.splitlines() if not line.startswith("#")] == lock([]).pins
