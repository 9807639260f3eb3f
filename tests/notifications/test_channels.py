"""The WhatsApp (Meta Cloud API) and SMS (Twilio-style) channels against local fake
providers: request shape and authentication, 4xx is final and 5xx worth a retry, the
console fallback without configuration, one breaker per provider; the webhook channel's
reading of HTTP answers; and the guest receipts code going out through the SMS channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.kit import breaker
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import OutboxMessage
from servio.notifications.channels import ChannelMessage
from servio.notifications.delivery import (
    Destination,
    Notification,
    new_webhook_id,
    notify_breaker,
    send_now,
)
from servio.notifications.webhook import WebhookChannel
from servio.receipts.service import SMS_TOPIC
from servio.worker.outbox import enqueue
from servio.worker.runner import Worker
from tests.fixtures.factories import make_tenant
from tests.notifications.delivery_helpers import attempts_of
from tests.notifications.http_receiver import Receiver, http_receiver

PHONE = "+919876543210"
ENVELOPE = {
    "id": "01JD0000000000000000000000",
    "event": "order.placed",
    "tenant_id": "T",
    "outlet_id": None,
    "occurred_at": "2026-11-22T07:30:00Z",
    "data": {"order_id": "O1"},
}


def whatsapp_settings(settings: Settings, receiver: Receiver) -> Settings:
    return settings.model_copy(
        update={
            "whatsapp_api_url": f"{receiver.url}/v21.0",
            "whatsapp_phone_number_id": "1098765",
            "whatsapp_token": "wa-token-123",
        }
    )


def sms_settings(settings: Settings, receiver: Receiver) -> Settings:
    return settings.model_copy(
        update={
            "sms_api_url": receiver.url,
            "sms_account_sid": "AC123",
            "sms_auth_token": "sms-token-456",
            "sms_from": "+15005550006",
        }
    )


def text_notification(channel: str, text: str = "Your order is ready") -> Notification:
    return Notification.from_payload(
        {
            "channel": channel,
            "target": PHONE,
            "event": "order.placed",
            "envelope": ENVELOPE,
            "webhook_id": new_webhook_id(),
            "text": text,
        }
    )


async def test_whatsapp_posts_the_cloud_api_shape_with_the_bearer_token(
    db: Database, settings: Settings, clock: FrozenClock, breakers: breaker.BreakerStore
) -> None:
    tenant, outlet = await make_tenant(db)
    with http_receiver() as provider:
        outcome = await send_now(
            db,
            whatsapp_settings(settings, provider),
            tenant_id=tenant.id,
            outlet_id=outlet.id,
            notification=text_notification("whatsapp"),
            outbox_id="01OUTBOX",
        )
        [hit] = provider.hits
    assert outcome.ok, outcome.detail
    assert hit.path == "/v21.0/1098765/messages"
    assert hit.headers["authorization"] == "Bearer wa-token-123"
    assert hit.json() == {
        "messaging_product": "whatsapp",
        "to": "919876543210",
        "type": "text",
        "text": {"body": "Your order is ready"},
    }
    assert outcome.sent_body == {
        "to": "…3210",
        "subject": outcome.sent_body["subject"],
        "text": "Your order is ready",
    }
    [attempt] = await attempts_of(db, "01OUTBOX")
    assert (attempt.channel, attempt.target, attempt.ok, attempt.status_code) == (
        "whatsapp",
        "…3210",
        True,
        200,
    )


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (401, False), (429, True), (500, True), (503, True)]
)
async def test_provider_answers_decide_retry_or_dead_letter(
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
    status: int,
    retryable: bool,
) -> None:
    tenant, _ = await make_tenant(db)
    with http_receiver(status) as provider:
        for channel, configured in (
            ("whatsapp", whatsapp_settings(settings, provider)),
            ("sms", sms_settings(settings, provider)),
        ):
            outcome = await send_now(
                db,
                configured,
                tenant_id=tenant.id,
                outlet_id=None,
                notification=text_notification(channel),
            )
            assert (outcome.ok, outcome.retryable, outcome.status_code) == (
                False,
                retryable,
                status,
            )
            assert PHONE not in outcome.detail
            assert "token" not in outcome.detail


async def test_sms_posts_a_twilio_style_form_with_basic_auth(
    db: Database, settings: Settings, clock: FrozenClock, breakers: breaker.BreakerStore
) -> None:
    tenant, outlet = await make_tenant(db, name="Spice Route")
    with http_receiver(201) as provider:
        configured = sms_settings(settings, provider)
        outcome = await send_now(
            db,
            configured,
            tenant_id=tenant.id,
            outlet_id=outlet.id,
            notification=Notification.from_payload(
                {**text_notification("sms").to_payload(), "text": None}
            ),
        )
        [hit] = provider.hits
    assert outcome.ok, outcome.detail
    assert hit.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert hit.basic_auth() == ("AC123", "sms-token-456")
    form = hit.form()
    assert (form["To"], form["From"]) == (PHONE, "+15005550006")
    # Without ready text the alert is rendered from the event.
    assert "A guest or staff member submitted an order." in form["Body"]
    assert "Spice Route Main" in form["Body"]


async def test_unconfigured_providers_fall_back_to_the_console(
    db: Database, settings: Settings, clock: FrozenClock, breakers: breaker.BreakerStore
) -> None:
    tenant, _ = await make_tenant(db)
    assert not settings.whatsapp_token
    assert not settings.sms_account_sid
    for channel in ("whatsapp", "sms"):
        outcome = await send_now(
            db,
            settings,
            tenant_id=tenant.id,
            outlet_id=None,
            notification=text_notification(channel),
        )
        assert (outcome.ok, outcome.detail) == (True, "logged")


async def test_one_breaker_per_provider_whoever_the_recipient(
    db: Database, settings: Settings, clock: FrozenClock, breakers: breaker.BreakerStore
) -> None:
    tenant, _ = await make_tenant(db)
    with http_receiver(503) as provider:
        configured = sms_settings(settings, provider).model_copy(update={"cb_failure_threshold": 2})
        for phone in ("+919876543210", "+14155550100"):
            notification = Notification.from_payload(
                {**text_notification("sms").to_payload(), "target": phone}
            )
            await send_now(
                db, configured, tenant_id=tenant.id, outlet_id=None, notification=notification
            )
        refused = await send_now(
            db,
            configured,
            tenant_id=tenant.id,
            outlet_id=None,
            notification=text_notification("sms"),
        )
        assert len(provider.hits) == 2
    assert refused.deferred
    assert (refused.ok, refused.attempt_id) == (False, "")
    assert (
        await notify_breaker(configured).state(
            f"{provider.url}/2010-04-01/Accounts/AC123/Messages.json"
        )
        == "open"
    )


@pytest.mark.parametrize(
    ("status", "ok", "retryable"),
    [
        (200, True, True),
        (204, True, True),
        (302, False, False),
        (400, False, False),
        (404, False, False),
        (408, False, True),
        (410, False, False),
        (425, False, True),
        (429, False, True),
        (500, False, True),
        (502, False, True),
    ],
)
async def test_webhook_answers_are_classified(
    settings: Settings, status: int, ok: bool, retryable: bool
) -> None:
    with http_receiver(status) as receiver:
        result = await WebhookChannel(settings, ["whsec_" + "A" * 32]).send(
            ChannelMessage(
                tenant_id="T",
                event="order.placed",
                subject="order.placed",
                payload=ENVELOPE,
                dedupe_key="k",
                target=f"{receiver.url}/h",
                message_id=new_webhook_id(),
            )
        )
    assert (result.ok, result.status_code) == (ok, status)
    if not ok:
        assert result.retryable is retryable


async def test_an_unreachable_webhook_is_retried_and_a_private_one_refused(
    settings: Settings,
) -> None:
    with http_receiver() as receiver:
        url = f"{receiver.url}/h"
    message = ChannelMessage(
        tenant_id="T",
        event="order.placed",
        subject="",
        payload=ENVELOPE,
        dedupe_key="k",
        target=url,
        message_id=new_webhook_id(),
    )
    secrets = ["whsec_" + "A" * 32]
    down = await WebhookChannel(settings, secrets).send(message)
    assert (down.ok, down.retryable) == (False, True)
    production_like = settings.model_copy(update={"webhook_allow_private_targets": False})
    refused = await WebhookChannel(production_like, secrets).send(message)
    assert (refused.ok, refused.retryable) == (False, False)
    assert "private" in refused.detail


async def test_a_probe_to_an_unsaved_destination_skips_the_breaker(
    db: Database, settings: Settings, clock: FrozenClock, breakers: breaker.BreakerStore
) -> None:
    tenant, _ = await make_tenant(db)
    with http_receiver(503) as receiver:
        url = f"{receiver.url}/h"
        tight = settings.model_copy(update={"cb_failure_threshold": 1})
        for _ in range(3):
            outcome = await send_now(
                db,
                tight,
                tenant_id=tenant.id,
                outlet_id=None,
                kind="probe",
                notification=Notification.from_payload(
                    {**text_notification("webhook").to_payload(), "target": ""}
                ),
                destination=Destination("webhook", url, ("whsec_" + "A" * 32,)),
            )
            assert (outcome.ok, outcome.status_code, outcome.deferred) == (False, 503, False)
        assert len(receiver.hits) == 3
    assert await notify_breaker(tight).state(url) == "closed"


async def test_the_receipts_code_goes_out_through_the_sms_channel(
    db: Database, settings: Settings, clock: FrozenClock, breakers: breaker.BreakerStore
) -> None:
    tenant, outlet = await make_tenant(db)
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        await enqueue(
            uow,
            tenant_id=tenant.id,
            outlet_id=outlet.id,
            topic=SMS_TOPIC,
            payload={
                "to": "919876543210",
                "hint": "••••3210",
                "context": {"outlet_name": "Spice Route", "code": "482913", "expires_in_mins": 10},
                "secret_fields": ["code"],
            },
            dedupe_key="receipt_code:R1",
        )
    with http_receiver(201) as provider:
        result = await Worker(db, sms_settings(settings, provider), worker_id="w").deliver_due()
        [hit] = provider.hits
    assert result.delivered == 1
    assert hit.form()["To"] == PHONE
    assert hit.form()["Body"].startswith("482913 is your code")
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = await uow.session.execute(
            select(OutboxMessage).where(OutboxMessage.topic == SMS_TOPIC)
        )
        [row] = rows.scalars()
    assert row.status == "delivered"
    assert "482913" not in str(row.payload)
    assert "9876543210" not in str(row.payload)
