"""``gnomon monitor alert|channel|silence ...``: alert rules, where alerts go, and silences."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from gnomon._types import now_ms
from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_time,
    new_table,
    print_json,
    say,
)
from gnomon.errors import InvalidInput
from gnomon.monitoring.alert_rules import OPS, AlertRule, Silence
from gnomon.monitoring.entities import parse_duration

alert_app = typer.Typer(help="Alert rules on a monitor's figures, and their events.")
channel_app = typer.Typer(help="Where alerts go: webhooks, mail, the log.")
silence_app = typer.Typer(help="Mute alerts for a while.")

Monitor = Annotated[str, typer.Argument(help="The monitor.", show_default=False)]
_CONDITION = re.compile(r"\s*(\S+)\s*(>=|<=|>|<)\s*(\S+)\s*")


def parse_condition(text: str) -> tuple[str, str, float]:
    """``"drift.share > 0.5"`` as (figure, op, threshold).

    Raises:
        InvalidInput: not FIGURE OP NUMBER.
    """
    match = _CONDITION.fullmatch(text)
    if not match:
        raise InvalidInput(
            f"a condition is FIGURE OP NUMBER with OP one of {list(OPS)}, like "
            f"'drift.share > 0.5'; got {text!r}"
        )
    try:
        threshold = float(match.group(3))
    except ValueError:
        raise InvalidInput(f"the threshold of {text!r} is not a number") from None
    return match.group(1), match.group(2), threshold


@alert_app.command("add")
def add_rule(
    ctx: typer.Context,
    monitor: Monitor,
    name: Annotated[str, typer.Argument(help="The rule's name.", show_default=False)],
    when: Annotated[str, typer.Option(help="FIGURE OP NUMBER: 'drift.share > 0.5'.")],
    windows: Annotated[
        int, typer.Option("--for", help="Fire after this many windows in a row.")
    ] = 1,
    channel: Annotated[list[str] | None, typer.Option(help="A channel to deliver to.")] = None,
    severity: Annotated[str, typer.Option(help="info, warning or critical.")] = "warning",
) -> None:
    """Add or replace an alert rule (its state starts over)."""
    figure, op, threshold = parse_condition(when)
    rule = AlertRule(name, monitor, figure, op, threshold, windows, tuple(channel or ()), severity)
    client_of(ctx).monitors.set_rule(rule)
    say(f"Alert {name} on {monitor}: {rule.condition} for {windows} window(s)")


@alert_app.command("list")
def list_rules(
    ctx: typer.Context, monitor: Monitor, output: OutputOption = OutputFormat.TABLE
) -> None:
    """A monitor's alert rules and where each stands."""
    found = client_of(ctx).monitors.rules(monitor)
    if output is OutputFormat.JSON:
        print_json([{"rule": r.to_dict(), "state": s.to_dict()} for r, s in found])
        return
    table = new_table(None, "rule", "condition", "for", "severity", "channels", "status", "since")
    for rule, state in found:
        table.add_row(
            rule.name,
            rule.condition,
            str(rule.for_windows),
            rule.severity,
            ", ".join(rule.channels) or MISSING,
            state.status,
            format_time(state.since_ms) if state.since_ms else MISSING,
        )
    console().print(table)


@alert_app.command("delete")
def delete_rule(
    ctx: typer.Context,
    monitor: Monitor,
    name: Annotated[str, typer.Argument(help="The rule.", show_default=False)],
) -> None:
    """Delete an alert rule."""
    client_of(ctx).monitors.delete_rule(monitor, name)
    say(f"Deleted alert {name} of {monitor}")


@alert_app.command("events")
def events(
    ctx: typer.Context,
    monitor: Monitor,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="The newest N.")] = 50,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Alert events, newest first, and what became of their deliveries."""
    found = client_of(ctx).monitors.events(monitor, limit=limit)
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(None, "when", "rule", "event", "value", "delivered")
    for item in found:
        event = item["event"]
        table.add_row(
            format_time(event["at_ms"]),
            event["rule"],
            event["kind"],
            f"{event['figure']} = {_number(event.get('value'))}",
            "silenced" if item["silenced"] else _deliveries(item["deliveries"]),
        )
    console().print(table)


@channel_app.command("add")
def add_channel(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The channel's name.", show_default=False)],
    webhook: Annotated[
        str | None, typer.Option(help="POST each event as JSON to this URL.")
    ] = None,
    smtp: Annotated[str | None, typer.Option(help="Mail through HOST:PORT.")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="The mail's sender.")] = None,
    to: Annotated[list[str] | None, typer.Option(help="A mail recipient.")] = None,
    log: Annotated[bool, typer.Option(help="Write each event as a JSON log line.")] = False,
) -> None:
    """Add or replace a channel: --webhook URL, --smtp HOST:PORT --from --to, or --log."""
    chosen = [o for o in (webhook, smtp) if o is not None] + (["log"] if log else [])
    if len(chosen) != 1:
        raise InvalidInput("give exactly one of --webhook, --smtp and --log")
    spec: dict[str, Any]
    if webhook is not None:
        spec = {"kind": "webhook", "name": name, "url": webhook}
    elif smtp is not None:
        host, _, port = smtp.rpartition(":")
        if not host or not port.isdigit():
            raise InvalidInput(f"--smtp is HOST:PORT, got {smtp!r}")
        spec = {
            "kind": "smtp",
            "name": name,
            "host": host,
            "port": int(port),
            "sender": sender,
            "recipients": list(to or []),
        }
    else:
        spec = {"kind": "log", "name": name}
    client_of(ctx).monitors.set_channel(spec)
    say(f"Channel {name} ({spec['kind']}) saved")


@channel_app.command("list")
def list_channels(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """The workspace's channels."""
    found = [c.to_dict() for c in client_of(ctx).monitors.channels()]
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(None, "name", "kind", "target")
    for spec in found:
        target = spec.get("url") or spec.get("host") or MISSING
        table.add_row(spec["name"], spec["kind"], str(target))
    console().print(table)


@channel_app.command("delete")
def delete_channel(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The channel.")]
) -> None:
    """Delete a channel."""
    client_of(ctx).monitors.delete_channel(name)
    say(f"Deleted channel {name}")


@silence_app.command("add")
def add_silence(
    ctx: typer.Context,
    duration: Annotated[str, typer.Option("--for", help="How long: 30m, 2h, 1d.")],
    monitor: Annotated[str, typer.Option(help="The monitor muted (* for any).")] = "*",
    rule: Annotated[str, typer.Option(help="The rule muted (* for any).")] = "*",
    comment: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Mute matching alerts from now on, for a while (events are still recorded)."""
    start = now_ms()
    seconds = parse_duration(duration, "--for")
    silence = Silence(
        monitor=monitor, rule=rule, starts_ms=start, ends_ms=start + seconds * 1000, comment=comment
    )
    silence_id = client_of(ctx).monitors.silence(silence)
    say(f"Silence {silence_id} until {format_time(silence.ends_ms)}")


@silence_app.command("list")
def list_silences(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """The silences active now."""
    found = client_of(ctx).monitors.silences()
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(None, "id", "monitor", "rule", "until", "comment")
    for s in found:
        table.add_row(s["id"], s["monitor"], s["rule"], format_time(s["ends_ms"]), s["comment"])
    console().print(table)


@silence_app.command("delete")
def delete_silence(
    ctx: typer.Context, silence_id: Annotated[str, typer.Argument(help="The silence's id.")]
) -> None:
    """End a silence now."""
    client_of(ctx).monitors.delete_silence(silence_id)
    say(f"Deleted silence {silence_id}")


def _number(value: Any) -> str:
    return MISSING if value is None else f"{float(value):.4g}"


def _deliveries(deliveries: list[dict[str, Any]]) -> str:
    if not deliveries:
        return MISSING
    return ", ".join(f"{d['channel']} {'ok' if d['ok'] else 'failed'}" for d in deliveries)


__all__ = ["alert_app", "channel_app", "parse_condition", "silence_app"]
