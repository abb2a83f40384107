"""The operator's command alert channels, read from ``GNOMON_ALERT_COMMANDS``.

Command channels run a program where the monitor runs (a server, ``gnomon worker``), so
only the operator's own file configures them; no API call can add one.
"""

from __future__ import annotations

import json

from gnomon.config import Settings
from gnomon.errors import InvalidInput
from gnomon.monitoring.channel_specs import CommandChannel

MAX_FILE_BYTES = 1_000_000


def command_channels(settings: Settings) -> dict[str, CommandChannel]:
    """``{"name": ["program", "arg", ...]}`` from the file, as channels by name.

    Raises:
        InvalidInput: the file is unreadable, too big, not that JSON, or a bad channel.
    """
    path = settings.alert_commands
    if path is None:
        return {}
    try:
        with open(path, "rb") as file:
            text = file.read(MAX_FILE_BYTES + 1)
        if len(text) > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"GNOMON_ALERT_COMMANDS {str(path)!r}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(
            f'GNOMON_ALERT_COMMANDS {str(path)!r} must hold {{"name": ["program", ...]}}'
        )
    return {
        name: CommandChannel(name, tuple(argv) if isinstance(argv, list) else argv)
        for name, argv in data.items()
    }


__all__ = ["command_channels"]
