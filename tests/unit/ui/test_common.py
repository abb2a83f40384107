"""The search box's narrowing, shared by the list pages."""

from __future__ import annotations

from dataclasses import dataclass

from gnomon.ui.common import matching


@dataclass
class Named:
    name: str
    deployment: str = ""


def test_matching_ignores_case_and_keeps_everything_without_a_query() -> None:
    items = [Named("Churn-Model"), Named("fraud")]
    assert matching(items, None) == items
    assert matching(items, "") == items
    assert matching(items, "CHURN") == [items[0]]
    assert matching(items, "nothing") == []


def test_matching_reads_every_text_given() -> None:
    items = [Named("web-drift", "Web-API"), Named("batch", "nightly")]
    by_both = matching(items, "web-api", lambda m: (m.name, m.deployment))
    assert by_both == [items[0]]
    assert matching(items, "NIGHT", lambda m: (m.name, m.deployment)) == [items[1]]
    assert matching(items, "night") == []  # by name only, unless told
