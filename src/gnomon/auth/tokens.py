"""API token secrets: how they are made, shown and stored."""

from __future__ import annotations

import hashlib
import secrets

from gnomon.auth.entities import NewToken, Role

SCHEME = "gnm_"
PREFIX_LENGTH = 8


def generate() -> str:
    """A new secret: ``gnm_`` and 32 random bytes, URL-safe (256 bits of entropy). The marker
    lets secret scanners and people recognise a gnomon token."""
    return SCHEME + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """SHA-256 hex of the secret, the only form the database keeps.

    A fast hash is right here, unlike for passwords: the secret is 256 random bits, so there
    is nothing to guess, and authentication must stay one cheap unique-index lookup.
    Comparing in constant time is not needed either: the lookup is by hash, and timing how
    long an index takes to find (or miss) a hash tells an attacker nothing about any secret
    whose hash they cannot invert.
    """
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def prefix(secret: str) -> str:
    """The part of a secret safe to show in listings and the audit log."""
    return secret[:PREFIX_LENGTH]


def issue(
    user_id: str,
    name: str,
    now: int,
    workspace_id: str | None = None,
    role: Role | None = None,
    expires_time: int | None = None,
) -> tuple[str, NewToken]:
    """A fresh secret and the token to store for it (which holds only its hash)."""
    secret = generate()
    token = NewToken(
        user_id=user_id,
        name=name,
        token_hash=hash_secret(secret),
        prefix=prefix(secret),
        created_time=now,
        workspace_id=workspace_id,
        role=role,
        expires_time=expires_time,
    )
    return secret, token
