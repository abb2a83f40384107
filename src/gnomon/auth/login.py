"""The login rate limit: failed attempts counted per user name and per client address."""

from __future__ import annotations

import math

from gnomon.auth.entities import LoginLimits
from gnomon.auth.store import AuditStore
from gnomon.errors import RateLimited

# After MAX_FAILURES failures within the window for one user name, or MAX_FAILURES_PER_ADDRESS
# from one client address, further attempts are refused until the oldest of those failures
# leaves the window. Refused attempts are not counted, so an attacker hammering a name cannot
# keep its owner locked out forever. An attempt still in flight counts as a failure, so the
# address limit is the larger: several users behind one address (or one proxy) logging in at
# once, and a few made-up names, must not lock out everyone else there.
MAX_FAILURES = 5
MAX_FAILURES_PER_ADDRESS = 20
WINDOW_MS = 15 * 60 * 1000


class LoginLimiter:
    """Counts failed logins in the audit store, so every server process sees the same count.

    An attempt is recorded as a failure *before* its password is checked (``reserve``), in
    the same transaction that counts, and that one record is taken back once the password
    proves right: however many guesses arrive at once, at most ``MAX_FAILURES`` for a name
    and ``MAX_FAILURES_PER_ADDRESS`` from an address reach the slow hash. Names are counted
    whether or not a user has them, so a refusal says nothing about which names exist.
    """

    def __init__(self, store: AuditStore) -> None:
        self.store = store

    def reserve(self, user_name: str, address: str | None, now: int) -> int:
        """Count one attempt for this name from this address; returns its id, for
        ``succeeded``.

        Raises:
            RateLimited: a limit is reached; ``retry_after`` says how many seconds to wait.
        """
        # A read first: attempts refused while limited take no write lock.
        wait = self.wait_ms(user_name, address, now)
        if not wait:
            attempt_id = self.store.reserve_failed_login(user_name, address, now, limits(now))
            if attempt_id is not None:
                return attempt_id
            wait = max(1, self.wait_ms(user_name, address, now))  # others took the places
        seconds = as_seconds(wait)
        raise RateLimited(
            f"too many failed logins; wait {seconds} seconds and try again",
            {"retry_after": seconds},
        )

    def wait_ms(self, user_name: str, address: str | None, now: int) -> int:
        """How long until this name, from this address, may try again; 0 means now."""
        by_user, by_address = self.store.recent_failed_logins(user_name, address, limits(now))
        return max(
            wait_ms(by_user, MAX_FAILURES, WINDOW_MS, now),
            wait_ms(by_address, MAX_FAILURES_PER_ADDRESS, WINDOW_MS, now),
        )

    def succeeded(self, attempt_id: int) -> None:
        """The password was right: take back this attempt's record only. The name's other
        failures stay, so its owner logging in does not renew a guesser's budget."""
        self.store.release_failed_login(attempt_id)


def limits(now: int) -> LoginLimits:
    return LoginLimits(window_start(now, WINDOW_MS), MAX_FAILURES, MAX_FAILURES_PER_ADDRESS)


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
