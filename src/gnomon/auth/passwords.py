"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hashes and checks passwords; the hasher's parameters are the cost of one guess.

    The default is argon2-cffi's, RFC 9106's low-memory profile (64 MiB, 3 passes). Tests pass
    a cheap hasher; a hash made with other parameters still verifies, and ``needs_rehash``
    says it should be replaced at the next successful login.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        """False on a wrong password and on a stored hash argon2 cannot read."""
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(hashed)
        except InvalidHashError:
            return True

    def verify_nobody(self, password: str) -> None:
        """Spend the time a real check costs, so an unknown user name answers no faster than
        a known one with a wrong password (no user enumeration by timing)."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy, password)
