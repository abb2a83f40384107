"""Mail delivery: one plain-text message per event through smtplib.

SMTP's reply codes mean the opposite of HTTP's here: 4xx is a temporary refusal (retried),
5xx a permanent one (not retried).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from gnomon.monitoring.alert_rules import AlertEvent
from gnomon.monitoring.channel_specs import AttemptFailed, SmtpChannel


def send_mail(channel: SmtpChannel, event: AlertEvent) -> None:
    """Send ``event`` to every recipient.

    Raises:
        AttemptFailed: the server could not be reached or refused the mail, the login or a
            recipient; or ``password_env`` names a variable that is not set.
    """
    password = _password(channel)
    message = build_message(channel, event)
    try:
        with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_s) as smtp:
            if channel.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if channel.username is not None and password is not None:
                smtp.login(channel.username, password)
            refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise _failure(exc) from None
    if refused:  # some recipients got it: retrying would mail them twice
        raise AttemptFailed(_refused(refused), retry=False)


def build_message(channel: SmtpChannel, event: AlertEvent) -> EmailMessage:
    """The mail: subject ``[gnomon] FIRING warning: drift.share > 0.5 on monitor web-drift``."""
    message = EmailMessage()
    message["Subject"] = f"[gnomon] {event.title}"
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.recipients)
    message["Date"] = formatdate(event.at_ms / 1000, usegmt=True)
    message["Message-ID"] = make_msgid(domain=channel.sender.rpartition("@")[2])
    message["X-Gnomon-Dedup-Key"] = event.dedup_key  # mail filters can thread an episode
    message.set_content(body_text(event))
    return message


def body_text(event: AlertEvent) -> str:
    lines = [
        event.title,
        "",
        f"rule:          {event.rule}",
        f"monitor:       {event.monitor}",
        f"condition:     {event.figure} {event.op} {event.threshold:g}",
        f"value:         {event.value:g}",
        f"severity:      {event.severity}",
        f"window end:    {_iso(event.window_end_ms)}",
        f"firing since:  {_iso(event.since_ms)}",
        f"dedup key:     {event.dedup_key}",
    ]
    return "\n".join(lines) + "\n"


def _failure(exc: smtplib.SMTPException | OSError) -> AttemptFailed:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):  # every recipient
        codes = [code for code, _ in exc.recipients.values()]
        return AttemptFailed(_refused(exc.recipients), retry=all(400 <= c < 500 for c in codes))
    if isinstance(exc, smtplib.SMTPResponseException):  # the sender, the data, the login, HELO
        error = exc.smtp_error
        reply = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return AttemptFailed(f"SMTP {exc.smtp_code} {reply}", retry=400 <= exc.smtp_code < 500)
    if isinstance(exc, smtplib.SMTPNotSupportedError):  # no STARTTLS or AUTH offered
        return AttemptFailed(f"SMTP server: {exc}", retry=False)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return AttemptFailed(f"TLS certificate refused: {exc.verify_message}", retry=False)
    return AttemptFailed(f"{type(exc).__name__}: {exc}", retry=True)  # refused, dropped, timeout


def _password(channel: SmtpChannel) -> str | None:
    if channel.password_env is None:
        return None
    password = os.environ.get(channel.password_env)
    if not password:
        raise AttemptFailed(
            f"environment variable {channel.password_env} (the SMTP password) is not set",
            retry=False,
        )
    return password


def _refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    shown = ", ".join(
        f"{address} ({code} {reply.decode('utf-8', 'replace')})"
        for address, (code, reply) in list(recipients.items())[:5]
    )
    return f"SMTP refused {len(recipients)} recipient(s): {shown}"


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )
