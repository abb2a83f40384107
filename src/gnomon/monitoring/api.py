"""``MonitorsApi``: what ``client.monitors`` offers, embedded or through a server.

``client.MonitorClient`` binds the service to the client's scope; ``http.HttpMonitorClient``
calls the REST API, where the server's service raises the errors and the transport decodes
them into the same classes. Another workspace's monitors are ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from gnomon.monitoring.alert_rules import AlertRule, AlertState, Silence
from gnomon.monitoring.channel_specs import Channel
from gnomon.monitoring.entities import Monitor, MonitorRun, MonitorSpec, WindowResult
from gnomon.progress import ProgressCallback

if TYPE_CHECKING:
    pass


class MonitorsApi(Protocol):
    def create(self, name: str, spec: MonitorSpec) -> Monitor:
        """A monitor of ``spec.deployment`` against its reference.

        Raises:
            NotFound: an unknown deployment or dataset version.
            InvalidInput: a bad name or spec; columns the contract or the reference lack
                (named in the message); a model that records no training data.
            AlreadyExists: the name is taken in the workspace.

        Example:
            >>> client.monitors.create("web-drift", MonitorSpec("web", window_s=3600))
        """
        ...

    def get(self, name: str) -> Monitor:
        """Raises ``NotFound`` naming the monitor."""
        ...

    def delete(self, name: str) -> None:
        """The monitor, its results, rules and events. Raises ``NotFound``."""
        ...

    def run(
        self,
        name: str,
        *,
        until_ms: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> MonitorRun:
        """Evaluate every window that closed since the last run (a window without records
        gives an empty result, not an error); skipped while another worker runs it.

        ``on_progress`` is called with (windows done, windows to do, or None for count
        windows) where the windows are evaluated: embedded; a server's run shows none."""
        ...

    def results(
        self, name: str, *, since_ms: int | None = None, limit: int = 1000
    ) -> list[WindowResult]:
        """The newest ``limit`` windows (1-10,000), oldest first."""
        ...

    def report_html(self, name: str, *, limit: int = 200) -> str:
        """A self-contained HTML report of the newest ``limit`` windows."""
        ...

    def set_rule(self, rule: AlertRule) -> AlertRule:
        """Add or replace an alert rule of ``rule.monitor``.

        Raises:
            NotFound: no such monitor, or a channel the workspace does not have.
        """
        ...

    def rules(self, monitor: str) -> list[tuple[AlertRule, AlertState]]: ...

    def delete_rule(self, monitor: str, name: str) -> None: ...

    def events(self, monitor: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Alert events, newest first: ``event``, ``silenced`` and ``deliveries``."""
        ...

    def set_channel(self, spec: Mapping[str, Any]) -> Channel:
        """Add or replace a channel (``{"type": "webhook", "name": ..., "url": ...}``,
        ``smtp`` or ``log``; command channels are the operator's only).

        Raises:
            InvalidInput: a bad spec, or a command channel.
        """
        ...

    def channels(self) -> Sequence[Channel]: ...

    def delete_channel(self, name: str) -> None: ...

    def silence(self, silence: Silence) -> str:
        """Mute matching events until ``silence.ends_ms``; the silence's id."""
        ...

    def silences(self) -> list[dict[str, Any]]:
        """The silences active now, each as its fields and its ``id``."""
        ...

    def delete_silence(self, silence_id: str) -> None:
        """Raises ``NotFound``."""
        ...

    # Last: a method named ``list`` shadows the builtin for annotations after it.
    def list(self) -> list[Monitor]:
        """Every monitor of the workspace, by name."""
        ...


if TYPE_CHECKING:
    from gnomon.monitoring.client import MonitorClient

    _embedded: type[MonitorsApi] = MonitorClient
