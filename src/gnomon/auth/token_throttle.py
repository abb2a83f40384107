"""The bad-token throttle: requests with a bad API token, counted per client address.

The audit log is the counter: a failed token use is recorded only while its address has
fewer than ``MAX_BAD_TOKENS`` such events in the window. Past that, requests with a bad
token from the address are refused (429) and recorded nowhere, so anonymous traffic adds at
most ``MAX_BAD_TOKENS`` events per address per window however fast it comes. A valid token
is never throttled: the limit is checked only once a token has failed.
"""

from __future__ import annotations

from gnomon.auth.audit import AuditLog
from gnomon.auth.entities import AuditQuery, NewAuditEvent
from gnomon.auth.login import wait_ms, window_start

MAX_BAD_TOKENS = 20
WINDOW_MS = 15 * 60 * 1000


class TokenThrottle:
    """Records failed token uses through the audit log, at most ``MAX_BAD_TOKENS`` per client
    address per window, the same count in every server process."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def failed(self, event: NewAuditEvent) -> int:
        """Record one failed token use; returns 0 when recorded, else how many milliseconds
        until its address is heard again (then nothing was recorded)."""
        now, since = event.time, window_start(event.time, WINDOW_MS)
        if event.address is not None:  # a read first: throttled requests take no write lock
            query = AuditQuery(
                action=event.action, address=event.address, since=since, max_results=MAX_BAD_TOKENS
            )
            recent = [e.time for e in self.log.store.list_events(query)]
            if wait := wait_ms(recent, MAX_BAD_TOKENS, WINDOW_MS, now):
                return wait
        counted = self.log.append_limited(event, since, MAX_BAD_TOKENS)
        if len(counted) < MAX_BAD_TOKENS:
            return 0
        return max(1, wait_ms(counted, MAX_BAD_TOKENS, WINDOW_MS, now))
