"""Sending one notification (NOTIF-01…03): the `notify` outbox topic, its payload
(`Notification`), and `send_now`, which makes ONE attempt through the right channel.

    event row ──(worker: routing.route_event)──▶ notify rows ──(worker: send_now)──▶ channel

`send_now` resolves the destination (a webhook endpoint's URL and live signing secrets),
asks the destination's circuit breaker, sends, and writes a `DeliveryAttempt` row (the
delivery log) in its own short transaction. The outbox handler in `tasks.py` turns the
outcome into delivered / retry with back-off / dead letter / deferred (breaker open).

The breaker guards the place that fails: the webhook URL, or the provider (WhatsApp API,
SMS API, SMTP host), since a failing provider fails for every recipient. Test sends and
probes bypass it and leave it untouched: they are how an owner checks a destination, and
they must neither be refused nor close a breaker that real traffic opened."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

import structlog

from servio.config import Settings
from servio.kit.breaker import STATE_VALUES, BreakerConfig, CircuitBreaker, destination_hash
from servio.kit.clock import as_utc, utcnow
from servio.kit.db import Database, UnitOfWork
from servio.kit.ids import new_id
from servio.kit.logging import redact_text
from servio.kit.secretbox import SecretBox, SecretBoxError
from servio.models import DeliveryAttempt
from servio.notifications import repository
from servio.notifications.alert_text import render_alert
from servio.notifications.channels import Channel, ChannelMessage, DeliveryResult
from servio.notifications.console import ConsoleChannel
from servio.notifications.email import EmailChannel
from servio.notifications.sms import SmsChannel
from servio.notifications.targets import mask_target
from servio.notifications.webhook import WebhookChannel
from servio.notifications.whatsapp import WhatsAppChannel
from servio.ops.metrics import webhook_attempts_total, webhook_breaker_state, webhook_failures_total
from servio.worker.outbox import enqueue

logger = structlog.get_logger("servio.notifications")

NOTIFY_TOPIC = "notify"
ChannelName = Literal["console", "webhook", "email", "whatsapp", "sms"]
CHANNELS: tuple[ChannelName, ...] = get_args(ChannelName)
SendKind = Literal["delivery", "test", "probe"]
SECRET_PURPOSE = "webhook-signing"
BREAKER_NAME = "notify"
MIN_DEFER_SECS = 1.0  # a refused send waits at least this long before it is claimed again


@dataclass(frozen=True)
class Notification:
    """The payload of a `notify` outbox row."""

    channel: ChannelName
    target: str  # webhook: endpoint id; email: "a@x.in, b@y.in"; whatsapp/sms: E.164; console: ""
    event: str  # catalogue name, e.g. "order.placed"
    envelope: dict[str, Any]  # DomainEvent.envelope()
    webhook_id: str  # "msg_<ULID>": stable across retries and replays
    rule_id: str | None = None
    text: str | None = None  # ready text (guest updates); None: rendered from the event

    def to_payload(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "target": self.target,
            "event": self.event,
            "envelope": self.envelope,
            "webhook_id": self.webhook_id,
            "rule_id": self.rule_id,
            "text": self.text,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Notification:
        channel = payload.get("channel")
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        target, event, envelope = (payload.get(k) for k in ("target", "event", "envelope"))
        webhook_id, rule_id, text = (payload.get(k) for k in ("webhook_id", "rule_id", "text"))
        if not isinstance(target, str) or not isinstance(event, str) or not event:
            raise ValueError("target and event must be strings")
        if not isinstance(envelope, dict):
            raise ValueError("envelope must be an object")
        if not isinstance(webhook_id, str) or not webhook_id.startswith("msg_"):
            raise ValueError("webhook_id must look like msg_<id>")
        if rule_id is not None and not isinstance(rule_id, str):
            raise ValueError("rule_id must be a string")
        if text is not None and not isinstance(text, str):
            raise ValueError("text must be a string")
        return cls(
            channel=cast(ChannelName, channel),
            target=target,
            event=event,
            envelope=envelope,
            webhook_id=webhook_id,
            rule_id=rule_id,
            text=text,
        )


def new_webhook_id() -> str:
    return f"msg_{new_id()}"


async def enqueue_notification(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    outlet_id: str | None,
    notification: Notification,
    dedupe_key: str,
) -> str | None:
    """One `notify` outbox row in the caller's transaction; None when the key exists."""
    return await enqueue(
        uow,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        topic=NOTIFY_TOPIC,
        event=notification.event,
        payload=notification.to_payload(),
        dedupe_key=dedupe_key,
    )


@dataclass(frozen=True)
class Destination:
    """A resolved place to send to."""

    channel: ChannelName
    address: str  # URL | e-mails | phone | ""
    signing_secrets: tuple[str, ...] = ()  # webhook: current first, previous while in grace
    endpoint_id: str | None = None


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    retryable: bool
    detail: str  # safe to show: no secrets, masked targets
    status_code: int | None
    duration_ms: int
    attempt_id: str  # the DeliveryAttempt row; "" when nothing was sent (breaker refused)
    sent_body: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None  # set when the breaker refused: ask again after this

    @property
    def deferred(self) -> bool:
        return self.retry_after is not None


class DestinationUnavailable(Exception):
    """The destination cannot be used: endpoint deleted or disabled, secret unreadable."""

    def __init__(self, detail: str, *, permanent: bool = True) -> None:
        super().__init__(detail)
        self.permanent = permanent


def notify_breaker(settings: Settings) -> CircuitBreaker:
    """State lives in the process's breaker store (Redis when configured), so every worker
    sees the same breaker for a destination."""
    return CircuitBreaker(BREAKER_NAME, BreakerConfig.from_settings(settings))


def channel_for(destination: Destination, settings: Settings) -> Channel:
    match destination.channel:
        case "webhook":
            return WebhookChannel(settings, destination.signing_secrets)
        case "email":
            return EmailChannel(settings)
        case "whatsapp":
            return WhatsAppChannel(settings)
        case "sms":
            return SmsChannel(settings)
    return ConsoleChannel()


def guarded_address(destination: Destination, settings: Settings) -> str | None:
    """What the breaker and the `dest` metric label stand for; None for channels that
    cannot fail remotely (console, or a provider channel falling back to it)."""
    match destination.channel:
        case "webhook":
            return destination.address
        case "email":
            return settings.smtp_host or None
        case "whatsapp" | "sms":
            provider = (WhatsAppChannel if destination.channel == "whatsapp" else SmsChannel)(
                settings
            )
            return provider.endpoint if provider.configured else None
    return None


async def resolve_destination(
    uow: UnitOfWork, settings: Settings, *, tenant_id: str, notification: Notification
) -> Destination:
    if notification.channel != "webhook":
        address = "" if notification.channel == "console" else notification.target
        return Destination(notification.channel, address)
    endpoint = await repository.get_live_webhook_endpoint(
        uow, tenant_id=tenant_id, endpoint_id=notification.target
    )
    if endpoint is None:
        raise DestinationUnavailable("webhook endpoint not found (deleted)")
    if not endpoint.enabled:
        raise DestinationUnavailable("webhook endpoint is disabled")
    box = SecretBox.from_settings(settings, purpose=SECRET_PURPOSE)
    try:
        secrets = [box.decrypt(endpoint.secret_ciphertext)]
    except SecretBoxError as exc:
        raise DestinationUnavailable("signing secret unreadable: rotate the secret") from exc
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_ciphertext and expires and as_utc(expires) > utcnow():
        try:
            secrets.append(box.decrypt(endpoint.previous_secret_ciphertext))
        except SecretBoxError:  # the current secret still signs; the old one was optional
            logger.warning("webhook.previous_secret_unreadable", endpoint_id=endpoint.id)
    return Destination("webhook", endpoint.url, tuple(secrets), endpoint.id)


def _channel_message(
    tenant_id: str,
    outlet_id: str | None,
    notification: Notification,
    destination: Destination,
    outlet_name: str | None,
) -> ChannelMessage:
    if destination.channel == "webhook":
        subject, payload = notification.event, notification.envelope
    else:
        subject, body = render_alert(notification.envelope, outlet_name=outlet_name)
        payload = {"body": notification.text if notification.text is not None else body}
    return ChannelMessage(
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        event=notification.event,
        subject=subject,
        payload=payload,
        dedupe_key=notification.webhook_id,
        target=destination.address,
        message_id=notification.webhook_id,
    )


def _sent_body(message: ChannelMessage, destination: Destination) -> dict[str, Any]:
    if destination.channel == "webhook":
        return dict(message.payload)
    return {
        "to": mask_target(destination.channel, destination.address),
        "subject": message.subject,
        "text": str(message.payload.get("body", "")),
    }


async def _prepare(
    db: Database,
    settings: Settings,
    *,
    tenant_id: str,
    outlet_id: str | None,
    notification: Notification,
    destination: Destination | None,
) -> tuple[Destination, ChannelMessage]:
    needs_text = notification.channel != "webhook" and notification.text is None
    name: str | None = None
    if destination is None or (needs_text and outlet_id):
        async with db.unit_of_work(bypass_rls=True) as uow:
            if destination is None:
                destination = await resolve_destination(
                    uow, settings, tenant_id=tenant_id, notification=notification
                )
            if needs_text and outlet_id:
                name = await repository.outlet_name(uow, tenant_id=tenant_id, outlet_id=outlet_id)
    message = _channel_message(tenant_id, outlet_id, notification, destination, name)
    return destination, message


def _report_state(address: str, state: str) -> None:
    webhook_breaker_state.labels(dest=destination_hash(address)).set(STATE_VALUES[cast(Any, state)])


async def send_now(
    db: Database,
    settings: Settings,
    *,
    tenant_id: str,
    outlet_id: str | None,
    notification: Notification,
    kind: SendKind = "delivery",
    destination: Destination | None = None,
    outbox_id: str | None = None,
    attempt: int = 1,
) -> SendOutcome:
    """Make ONE attempt. Raises DestinationUnavailable when there is nowhere to send."""
    destination, message = await _prepare(
        db,
        settings,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        notification=notification,
        destination=destination,
    )
    sent_body = _sent_body(message, destination)
    guarded = guarded_address(destination, settings)
    breaker = notify_breaker(settings) if guarded and kind == "delivery" else None
    if breaker is not None and guarded is not None:
        permit = await breaker.allow(guarded)
        _report_state(guarded, permit.state)
        if not permit.allowed:
            return SendOutcome(
                ok=False,
                retryable=True,
                detail=f"circuit breaker {permit.state.replace('_', '-')}: not sent",
                status_code=None,
                duration_ms=0,
                attempt_id="",
                sent_body=sent_body,
                retry_after=max(permit.retry_after, MIN_DEFER_SECS),
            )

    started_at, tick = utcnow(), time.monotonic()
    try:
        result = await channel_for(destination, settings).send(message)
    except Exception as exc:  # a channel bug must still leave a trace and a retry
        logger.exception("notification.channel_crashed", channel=destination.channel)
        result = DeliveryResult.failed(f"{type(exc).__name__} in the {destination.channel} channel")
    duration_ms = int((time.monotonic() - tick) * 1000)
    detail = redact_text(result.detail)

    if breaker is not None and guarded is not None:
        # The breaker measures reachability: a definitive refusal (4xx) proves it up.
        reachable = result.ok or not result.retryable
        state = await (breaker.record_success if reachable else breaker.record_failure)(guarded)
        _report_state(guarded, state)
    dest = destination_hash(guarded or destination.channel)
    webhook_attempts_total.labels(dest=dest).inc()
    if not result.ok:
        webhook_failures_total.labels(dest=dest).inc()

    async with db.unit_of_work(bypass_rls=True) as uow:
        attempt_id = await repository.insert_delivery_attempt(
            uow,
            DeliveryAttempt(
                tenant_id=tenant_id,
                outbox_id=outbox_id,
                attempt=attempt,
                channel=destination.channel,
                event=notification.event,
                target=mask_target(destination.channel, destination.address)[:200],
                webhook_endpoint_id=destination.endpoint_id,
                webhook_id=notification.webhook_id,
                kind=kind,
                ok=result.ok,
                status_code=result.status_code,
                error=None if result.ok else detail,
                duration_ms=duration_ms,
                started_at=started_at,
            ),
        )
    return SendOutcome(
        ok=result.ok,
        retryable=result.retryable,
        detail=detail,
        status_code=result.status_code,
        duration_ms=duration_ms,
        attempt_id=attempt_id,
        sent_body=sent_body,
    )
