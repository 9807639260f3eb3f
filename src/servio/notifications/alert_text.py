"""The text of an alert sent by e-mail, WhatsApp or SMS, rendered from the templates
`alert.subject.txt` / `alert.txt`: what happened (the catalogue's description), where, and
the event's plain fields. Secrets and personal data never go out by text: fields under
sensitive keys are left out, and e-mail addresses or phone numbers inside values are
masked (the webhook channel, which is signed and owned by the tenant, carries the full
envelope)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servio.events import describe
from servio.kit.logging import redact_text
from servio.kit.redaction import is_loggable_key
from servio.notifications.email import render_email

TEMPLATE = "alert"
MAX_FIELDS = 12
MAX_VALUE_CHARS = 80


def key_fields(data: Any) -> list[tuple[str, str]]:
    """The envelope data's scalar fields that are safe to text, in their order."""
    if not isinstance(data, Mapping):
        return []
    fields: list[tuple[str, str]] = []
    for key, value in data.items():
        if len(fields) >= MAX_FIELDS:
            break
        if not isinstance(key, str) or not is_loggable_key(key):
            continue
        if value is None or isinstance(value, Mapping | list | tuple):
            continue
        text = redact_text(str(value))
        if len(text) > MAX_VALUE_CHARS:
            text = text[: MAX_VALUE_CHARS - 1] + "…"
        fields.append((key, text))
    return fields


def alert_context(envelope: Mapping[str, Any], *, outlet_name: str | None) -> dict[str, Any]:
    event = str(envelope.get("event") or "")
    return {
        "event": event,
        "description": describe(event) or f"Servio event {event}",
        "outlet": outlet_name or str(envelope.get("outlet_id") or ""),
        "occurred_at": str(envelope.get("occurred_at") or ""),
        "fields": key_fields(envelope.get("data")),
    }


def render_alert(envelope: Mapping[str, Any], *, outlet_name: str | None = None) -> tuple[str, str]:
    """(subject, body) of the alert for one event envelope."""
    return render_email(TEMPLATE, alert_context(envelope, outlet_name=outlet_name))
