"""Constants and the test clock shared by the auth unit tests."""

from __future__ import annotations

T0 = 1_700_000_000_000
SECOND = 1000
MINUTE = 60 * SECOND
DAY = 24 * 60 * MINUTE
ADMIN_PASSWORD = "admin-password"


class Clock:
    """Milliseconds since the epoch, moved by the test instead of by sleeping."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def password_of(name: str) -> str:
    return f"{name}-password"
