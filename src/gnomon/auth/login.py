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
    """Counts failed logins in the audit store, so every server process sees the same count."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store

    def wait_ms(self, user_name: str, address: str | None, now: int) -> int:
        """How long until this name, from this address, may try again; 0 means now."""
        by_user, by_address = self.store.recent_failed_logins(
            user_name, address, now - WINDOW_MS, MAX_FAILURES
        )
        return max(_wait(by_user, now), _wait(by_address, now))

    def failed(self, user_name: str, address: str | None, now: int) -> None:
        self.store.record_failed_login(user_name, address, now, prune_before=now - WINDOW_MS)

    def succeeded(self, user_name: str) -> None:
        self.store.clear_failed_logins(user_name)


def _wait(newest_first: list[int], now: int) -> int:
    if len(newest_first) < MAX_FAILURES:
        return 0
    return max(0, newest_first[MAX_FAILURES - 1] + WINDOW_MS - now)


def as_seconds(ms: int) -> int:
    """Whole seconds to wait, rounded up so that waiting that long is always enough."""
    return max(1, math.ceil(ms / 1000))
