"""The e-mail channel against a real (local) SMTP server, the console fallback, and the
`email` outbox handler that scrubs secrets from the stored row once the mail is out."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2
import pytest

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.notifications.channels import ChannelMessage
from servio.notifications.email import EmailChannel, enqueue_email, render_email
from servio.notifications.tasks import deliver_email
from servio.worker.handlers import ClaimedMessage, HandlerContext
from servio.worker.runner import Worker
from tests.fixtures.factories import make_tenant
from tests.notifications.smtp_sink import SmtpSink, smtp_sink
from tests.worker.helpers import all_outbox_rows

CONTEXT = {
    "outlet_name": "Spice Route",
    "word": "latte29",
    "business_date": "2026-11-22",
    "valid_until_local": "23 Nov 2026, 04:00",
    "manual": False,
}


def smtp_settings(settings: Settings, sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": sink.host,
            "smtp_port": sink.port,
            "smtp_security": "none",
            "email_from": "Servio <no-reply@servio.test>",
        }
    )


def message(target: str, body: str = "hello") -> ChannelMessage:
    return ChannelMessage(
        tenant_id="T",
        event="daily_pass",
        subject="Subject line",
        payload={"body": body},
        dedupe_key="daily_pass:O:2026-11-22",
        target=target,
    )


def test_daily_pass_template_renders_the_word_and_the_outlet() -> None:
    subject, body = render_email("daily_pass", CONTEXT)
    assert subject == "Today's pass word for Spice Route: latte29"
    assert "    latte29\n" in body
    assert "23 Nov 2026, 04:00" in body
    manual_subject, _ = render_email("daily_pass", {**CONTEXT, "manual": True})
    assert manual_subject.startswith("New pass word")
    with pytest.raises(jinja2.UndefinedError):
        render_email("daily_pass", {"outlet_name": "x"})


async def test_mail_reaches_the_smtp_server(settings: Settings) -> None:
    async with smtp_sink() as sink:
        channel = EmailChannel(smtp_settings(settings, sink))
        result = await channel.send(message("owner@bistro.test, partner@bistro.test", "Bonjour"))
    assert result.ok, result.detail
    [mail] = sink.messages
    assert mail.sender == "no-reply@servio.test"
    assert mail.recipients == ["owner@bistro.test", "partner@bistro.test"]
    assert mail.message["Subject"] == "Subject line"
    assert mail.message["X-Servio-Dedupe-Key"] == "daily_pass:O:2026-11-22"
    assert mail.body.strip() == "Bonjour"


async def test_a_refused_recipient_is_a_permanent_failure(settings: Settings) -> None:
    async with smtp_sink() as sink:
        result = await EmailChannel(smtp_settings(settings, sink)).send(
            message("nobody@reject.example")
        )
    assert not result.ok
    assert not result.retryable
    assert sink.messages == []


async def test_an_unreachable_server_is_retried(settings: Settings) -> None:
    async with smtp_sink() as sink:
        closed = smtp_settings(settings, sink)
    # The sink is gone: its port refuses connections now.
    result = await EmailChannel(closed).send(message("owner@bistro.test"))
    assert not result.ok
    assert result.retryable


async def test_without_smtp_host_mail_goes_to_the_console(settings: Settings) -> None:
    assert settings.smtp_host == ""
    result = await EmailChannel(settings).send(message("owner@bistro.test"))
    assert result.ok
    assert result.detail == "logged"


async def test_the_outbox_handler_sends_then_scrubs_secret_fields(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        message_id = await enqueue_email(
            uow,
            tenant_id=tenant.id,
            outlet_id=outlet.id,
            to=["owner@bistro.test"],
            template="daily_pass",
            context=CONTEXT,
            secret_fields=("word",),
            dedupe_key="daily_pass:test",
        )
    assert message_id is not None
    [queued] = await all_outbox_rows(db)
    assert queued.payload["context"]["word"] == "latte29"  # until it is delivered

    async with smtp_sink() as sink:
        worker = Worker(db, smtp_settings(settings, sink), worker_id="mailer")
        result = await worker.deliver_due()
        assert result.delivered == 1
        [mail] = sink.messages
        assert "latte29" in mail.body
        assert mail.message["Subject"] == "Today's pass word for Spice Route: latte29"

        [row] = await all_outbox_rows(db)
        assert row.status == "delivered"
        assert row.payload["context"]["word"] == "***"
        assert row.payload["context"]["outlet_name"] == "Spice Route"
        assert "latte29" not in str(row.payload)

        # A redelivery of the scrubbed row (lost lease after sending) sends nothing.
        claimed = ClaimedMessage(
            id=row.id,
            tenant_id=row.tenant_id,
            outlet_id=row.outlet_id,
            topic=row.topic,
            event=row.event,
            dedupe_key=row.dedupe_key,
            payload=row.payload,
            attempts=2,
            created_at=datetime(2026, 11, 22, tzinfo=UTC),
        )
        await deliver_email(claimed, HandlerContext(db=db, settings=worker.settings, worker_id="w"))
        assert len(sink.messages) == 1


async def test_a_failed_send_keeps_the_payload_for_the_retry(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        await enqueue_email(
            uow,
            tenant_id=tenant.id,
            to=["owner@bistro.test"],
            template="daily_pass",
            context=CONTEXT,
            secret_fields=("word",),
            dedupe_key="daily_pass:retry",
        )
    async with smtp_sink() as sink:
        unreachable = smtp_settings(settings, sink)
    result = await Worker(db, unreachable, worker_id="mailer").deliver_due()
    assert result.retried == 1
    [row] = await all_outbox_rows(db)
    assert row.status == "pending"
    assert row.payload["context"]["word"] == "latte29"


async def test_an_unknown_template_fails_the_producer(db: Database) -> None:
    tenant, _ = await make_tenant(db)
    with pytest.raises(jinja2.TemplateNotFound):
        async with db.unit_of_work(tenant_id=tenant.id) as uow:
            await enqueue_email(
                uow,
                tenant_id=tenant.id,
                to=["a@b.test"],
                template="nope",
                context={},
                dedupe_key="x",
            )
