"""The operator's alert channels, read from the JSON file ``GNOMON_ALERT_CHANNELS`` names.

Two kinds of channel are the operator's alone. A command runs a program where monitors run
(a server, ``gnomon worker``); a mail server that needs a login would send the password to
whichever host a channel names. So no API call defines either; this file does::

    {
      "retrain": ["/usr/local/bin/retrain", "--queue", "ml"],
      "page": {"kind": "command", "argv": ["/usr/local/bin/page"], "workspaces": ["fraud"]},
      "mail": {"kind": "smtp", "host": "smtp.example.com", "port": 587, "starttls": true,
               "sender": "alerts@example.com", "recipients": ["ml-oncall@example.com"],
               "username": "alerts", "password_env": "GNOMON_SMTP_PASSWORD"}
    }

A list is a command for every workspace; an object is any channel spec, with an optional
``workspaces`` list (names) keeping it to those workspaces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gnomon.config import Settings
from gnomon.errors import InvalidInput
from gnomon.monitoring.channel_specs import Channel, CommandChannel, channel_from_dict

MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class OperatorChannel:
    channel: Channel
    workspaces: frozenset[str] | None = None  # names; None: every workspace

    def serves(self, workspace: str) -> bool:
        return self.workspaces is None or workspace in self.workspaces


def operator_channels(settings: Settings) -> dict[str, OperatorChannel]:
    """The file's channels by name (none without the setting).

    Raises:
        InvalidInput: the file is unreadable, too big, not that JSON, or a bad channel.
    """
    path = settings.alert_channels
    if path is None:
        return {}
    where = f"GNOMON_ALERT_CHANNELS {str(path)!r}"
    try:
        with open(path, "rb") as file:
            text = file.read(MAX_FILE_BYTES + 1)
        if len(text) > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f'{where} must hold {{"name": ["program", ...] or {{...}}}}')
    return {name: _channel(where, name, spec) for name, spec in data.items()}


def _channel(where: str, name: str, spec: Any) -> OperatorChannel:
    if isinstance(spec, list):
        return OperatorChannel(CommandChannel(name, tuple(spec)))
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"{where}: channel {name!r} must be a list or an object")
    workspaces = spec.get("workspaces")
    if workspaces is not None and (
        not isinstance(workspaces, list) or not all(isinstance(w, str) for w in workspaces)
    ):
        raise InvalidInput(f"{where}: channel {name!r}: workspaces must be a list of names")
    fields = {k: v for k, v in spec.items() if k != "workspaces"}
    channel = channel_from_dict({**fields, "name": name})
    return OperatorChannel(channel, None if workspaces is None else frozenset(workspaces))


__all__ = ["OperatorChannel", "operator_channels"]
