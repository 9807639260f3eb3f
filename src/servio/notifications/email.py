"""The e-mail channel: plain-text mail over SMTP (stdlib `smtplib`, run in a thread so the
event loop never blocks), rendered from Jinja templates in `notifications/templates/`.

Producers never send mail themselves: they call `enqueue_email(...)` in their transaction,
and the worker's `email` outbox handler (`notifications/tasks.py`) renders and sends it
after the commit. Without `SMTP_HOST` the channel falls back to the console channel (one
log line per mail), which is what development and most tests use.

A template `NAME` is two files: `NAME.subject.txt` (one line) and `NAME.txt` (the body).
Payload fields named in `secret_fields` (the daily pass word) are replaced by `***` in the
stored outbox row once the mail is delivered.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.notifications.channels import Channel, ChannelMessage, DeliveryResult
from servio.notifications.console import ConsoleChannel
from servio.worker.outbox import enqueue

TEMPLATES_DIR = Path(__file__).parent / "templates"
TOPIC = "email"
SCRUBBED = "***"


@cache
def _environment() -> jinja2.Environment:
    # Plain-text mail: nothing to escape; undefined variables are errors, as for pages.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,  # noqa: S701 - text/plain bodies, never rendered as HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_email(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of template `template` with `context`."""
    env = _environment()
    subject = env.get_template(f"{template}.subject.txt").render(context)
    body = env.get_template(f"{template}.txt").render(context)
    return " ".join(subject.split()), body


def email_payload(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    secret_fields: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "to": list(to),
        "template": template,
        "context": dict(context),
        "secret_fields": list(secret_fields),
    }


async def enqueue_email(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    dedupe_key: str,
    outlet_id: str | None = None,
    secret_fields: Sequence[str] = (),
) -> str | None:
    """Queue one e-mail in the caller's transaction (delivered after commit by the worker).
    The template must exist now: a typo fails the producer, not a delivery hours later."""
    render_email(template, context)
    return await enqueue(
        uow,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        topic=TOPIC,
        payload=email_payload(
            to=to, template=template, context=context, secret_fields=secret_fields
        ),
        dedupe_key=dedupe_key,
    )


def scrubbed_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload with its secret context fields replaced, marked as delivered."""
    secret = set(payload.get("secret_fields") or ())
    context = {
        key: SCRUBBED if key in secret else value
        for key, value in dict(payload.get("context") or {}).items()
    }
    return {**payload, "context": context, "scrubbed": True}


class EmailChannel:
    """`Channel` over SMTP; `message.target` is a comma-separated recipient list and
    `message.payload["body"]` the plain-text body."""

    name = "email"

    def __init__(self, settings: Settings, *, fallback: Channel | None = None) -> None:
        self.settings = settings
        self.fallback: Channel = fallback or ConsoleChannel()

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    async def send(self, message: ChannelMessage) -> DeliveryResult:
        if not self.configured:
            return await self.fallback.send(message)
        recipients = [a.strip() for a in message.target.split(",") if a.strip()]
        if not recipients:
            return DeliveryResult.failed("no recipients", retryable=False)
        mail = self._build(message, recipients)
        try:
            await asyncio.to_thread(self._send_blocking, mail, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            return DeliveryResult.failed(f"recipients refused: {exc.recipients}", retryable=False)
        except smtplib.SMTPResponseException as exc:
            # 5xx is the server's final answer (bad sender, rejected content); 4xx is "later".
            return DeliveryResult.failed(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                retryable=exc.smtp_code < 500,
                status_code=exc.smtp_code,
            )
        except (OSError, smtplib.SMTPException) as exc:
            return DeliveryResult.failed(f"{type(exc).__name__}: {exc}")
        return DeliveryResult.delivered(f"sent to {len(recipients)} recipient(s)")

    def _build(self, message: ChannelMessage, recipients: list[str]) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.email_from
        mail["To"] = ", ".join(recipients)
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain="servio.local")
        # Receivers (and our own retries) can recognise a duplicate of an at-least-once send.
        mail["X-Servio-Dedupe-Key"] = message.dedupe_key
        mail.set_content(str(message.payload.get("body", "")))
        return mail

    def _send_blocking(self, mail: EmailMessage, recipients: list[str]) -> None:
        s = self.settings
        timeout = s.smtp_timeout_secs
        smtp: smtplib.SMTP
        if s.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
        with smtp:
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            smtp.send_message(mail, to_addrs=recipients)
