"""API token secrets: their form, hash and the part that may be shown."""

from __future__ import annotations

import hashlib
import re

from gnomon.auth import tokens
from gnomon.auth.entities import Role


def test_generate() -> None:
    secrets = {tokens.generate() for _ in range(100)}
    assert len(secrets) == 100
    for secret in secrets:
        assert re.fullmatch(r"gnm_[A-Za-z0-9_\-]{43}", secret)


def test_hash_and_prefix() -> None:
    secret = "gnm_" + "a" * 43
    assert tokens.hash_secret(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert len(tokens.hash_secret(secret)) == 64
    assert tokens.prefix(secret) == "gnm_aaaa"
    assert tokens.prefix("short") == "short"


def test_issue_keeps_only_the_hash() -> None:
    secret, new = tokens.issue("u1", "ci", 5, "w1", Role.EDITOR, 9)
    assert (new.user_id, new.name, new.created_time) == ("u1", "ci", 5)
    assert (new.workspace_id, new.role, new.expires_time) == ("w1", Role.EDITOR, 9)
    assert (new.token_hash, new.prefix) == (tokens.hash_secret(secret), secret[:8])
    assert secret not in repr(new)
