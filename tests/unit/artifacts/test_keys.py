from __future__ import annotations

import pytest

from gnomon.artifacts.keys import MAX_KEY_BYTES, MAX_SEGMENT_BYTES, clean_key, join_key
from gnomon.errors import InvalidInput


def test_keys_at_the_limits_are_kept() -> None:
    key = "/".join(["k" * MAX_SEGMENT_BYTES] * 3 + ["k" * 254, "x"])
    assert len(key.encode()) == MAX_KEY_BYTES
    assert clean_key(key) == key
    with pytest.raises(InvalidInput, match="1025 bytes long"):
        clean_key(key + "x")


def test_limits_count_the_cleaned_key_in_utf8_bytes() -> None:
    assert clean_key("a//b/./" + "/" * 2000 + "c") == "a/b/c"  # separators collapse first
    with pytest.raises(InvalidInput, match="1026 bytes long") as info:
        clean_key("€" * 342)  # 342 characters, 1,026 bytes
    assert info.value.details["limit"] == MAX_KEY_BYTES


def test_a_refused_long_key_is_shown_by_its_start() -> None:
    with pytest.raises(InvalidInput) as info:
        clean_key("start-" + "x" * 5000)
    assert "'start-xxx" in info.value.message
    assert len(info.value.message) < 200
    assert len(info.value.details["key"]) < 100


def test_a_lone_surrogate_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="not valid Unicode"):
        clean_key("run/\udcff.txt")


def test_join_key_checks_the_joined_key() -> None:
    assert join_key("", "a/b") == "a/b"
    assert join_key("p", "a") == "p/a"
    with pytest.raises(InvalidInput, match="1024"):
        join_key("p" * 200, "/".join(["a" * 200] * 5))
