"""The login rate limit: failed attempts counted per user name and per client address."""

from __future__ import annotations

import math

from gnomon.auth.store import AuditStore

# After MAX_FAILURES failures within the window, for one user name or from one address, further
# attempts are refused until the oldest of those failures leaves the window. Refused attempts
# are not counted, so an attacker hammering a name cannot keep its owner locked out forever.
MAX_FAILURES = 5
WINDOW_MS = 15 * 60 * 1000


class LoginLimiter:
    """Counts failed logins in the audit store, so every server process sees the same count.

    An attempt is recorded as a failure *before* its password is checked (``reserve``), in
    the same transaction that counts, and forgotten once the password proves right: however
    many guesses arrive at once, at most ``MAX_FAILURES`` of them reach the slow hash.
    """

    def __init__(self, store: AuditStore) -> None:
        self.store = store

    def reserve(self, user_name: str, address: str | None, now: int) -> int:
        """Count one attempt for this name from this address; returns 0 when it may go ahead,
        else how many milliseconds until one may."""
        # A read first: attempts refused while limited take no write lock.
        if wait := self.wait_ms(user_name, address, now):
            return wait
        since = window_start(now, WINDOW_MS)
        if self.store.reserve_failed_login(user_name, address, now, since, MAX_FAILURES):
            return 0
        return max(1, self.wait_ms(user_name, address, now))  # others took the last places

    def wait_ms(self, user_name: str, address: str | None, now: int) -> int:
        """How long until this name, from this address, may try again; 0 means now."""
        by_user, by_address = self.store.recent_failed_logins(
            user_name, address, window_start(now, WINDOW_MS), MAX_FAILURES
        )
        return max(
            wait_ms(by_user, MAX_FAILURES, WINDOW_MS, now),
            wait_ms(by_address, MAX_FAILURES, WINDOW_MS, now),
        )

    def succeeded(self, user_name: str) -> None:
        """The password was right: forget the name's failures, this attempt's included."""
        self.store.clear_failed_logins(user_name)


def window_start(now: int, window_ms: int) -> int:
    """The oldest time still inside a window ending now: a failure at ``t`` counts until
    ``t + window_ms``, exactly when ``wait_ms`` lets the next attempt through."""
    return now - window_ms + 1


def wait_ms(newest_first: list[int], limit: int, window_ms: int, now: int) -> int:
    """How long until fewer than ``limit`` of these times lie within the window; 0 means now."""
    if len(newest_first) < limit:
        return 0
    return max(0, newest_first[limit - 1] + window_ms - now)


def as_seconds(ms: int) -> int:
    """Whole seconds to wait, rounded up so that waiting that long is always enough."""
    return max(1, math.ceil(ms / 1000))
