"""SMTP delivery of plain-text mail with the standard library (``smtplib``, ``email``).

``CASEMGMT_SMTP_URL``: ``smtp://[user:password@]host[:port]`` (plain; ``?starttls=true``
upgrades the connection) or ``smtps://...`` (TLS from the start). The password is used
to log in and appears in no log or error: errors name the host and port only.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from casemgmt.application.ports import MailMessage

__all__ = ["SmtpMailSender"]


class SmtpMailSender:
    def __init__(self, url: str, sender: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("CASEMGMT_SMTP_URL must look like smtp://host:port or smtps://...")
        self._tls = parts.scheme == "smtps"
        self._starttls = parse_qs(parts.query).get("starttls", ["false"])[0] in ("1", "true")
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._from = sender
        self._timeout = timeout

    def __repr__(self) -> str:  # never the password
        return f"SmtpMailSender({self._host}:{self._port})"

    async def send(self, messages: Sequence[MailMessage]) -> None:
        await asyncio.to_thread(self._send, list(messages))

    def _send(self, messages: list[MailMessage]) -> None:
        smtp: smtplib.SMTP
        if self._tls:
            ctx = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=ctx)
        else:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            with smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._user is not None:
                    smtp.login(self._user, self._password or "")
                for m in messages:
                    smtp.send_message(self._email(m))
        except smtplib.SMTPAuthenticationError:
            raise ConnectionError(
                f"SMTP server {self._host}:{self._port} refused the login"
            ) from None

    def _email(self, m: MailMessage) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._from
        msg["To"] = m.to
        msg["Subject"] = m.subject
        msg.set_content(m.body)
        return msg
