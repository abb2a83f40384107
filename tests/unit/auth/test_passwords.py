"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from gnomon.auth.passwords import Passwords


def test_default_parameters_are_argon2id() -> None:
    hasher = Passwords().hasher
    assert (hasher.time_cost, hasher.memory_cost) == (3, 65536)


def test_hash_and_verify() -> None:
    passwords = Passwords(PasswordHasher.from_parameters(CHEAPEST))
    hashed = passwords.hash("correct horse")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert passwords.hash("correct horse") != hashed  # salted
    assert passwords.verify(hashed, "correct horse")
    assert not passwords.verify(hashed, "correct horsE")
    assert not passwords.verify("not a hash", "correct horse")
    passwords.verify_nobody("anything")  # spends the time, raises nothing


def test_needs_rehash_after_parameters_change() -> None:
    cheap = Passwords(PasswordHasher.from_parameters(CHEAPEST))
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    hashed = cheap.hash("correct horse")
    assert not cheap.needs_rehash(hashed)
    assert stronger.needs_rehash(hashed)
    assert stronger.verify(hashed, "correct horse")  # old hashes still verify
    assert stronger.needs_rehash("not a hash")
