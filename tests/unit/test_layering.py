"""The import contracts come from the manifest and hold (tests/layering.py)."""

from __future__ import annotations

from gnomon.capabilities import CAPABILITIES
from tests.layering import check, contracts


def test_the_code_keeps_the_layering_the_manifest_declares() -> None:
    done = check(contracts())
    assert done.returncode == 0, done.stdout
    assert "5 kept, 0 broken" in done.stdout


def test_a_capability_importing_one_listed_after_it_is_caught() -> None:
    # The registry builds on tracking; listing it first makes that import an upward one.
    names = [c.name for c in CAPABILITIES]
    swapped = list(CAPABILITIES)
    registry, tracking = names.index("registry"), names.index("tracking")
    swapped[registry], swapped[tracking] = swapped[tracking], swapped[registry]
    done = check(contracts(swapped))
    assert done.returncode != 0
    assert "gnomon.registry is not allowed to import gnomon.tracking" in done.stdout
