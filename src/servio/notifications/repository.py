"""Queries of the notifications context: the outbox rows it sends from, the delivery log,
and what a send needs to know about its destination."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from servio.kit.db import UnitOfWork
from servio.models import DeliveryAttempt, OutboxMessage, Outlet, WebhookEndpoint


async def replace_outbox_payload(uow: UnitOfWork, message_id: str, payload: dict[str, Any]) -> bool:
    """Overwrite a message's stored payload (used to scrub secrets after delivery)."""
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(payload=payload)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_delivery_attempt(uow: UnitOfWork, attempt: DeliveryAttempt) -> str:
    uow.session.add(attempt)
    await uow.session.flush()
    return attempt.id


async def get_live_webhook_endpoint(
    uow: UnitOfWork, *, tenant_id: str, endpoint_id: str
) -> WebhookEndpoint | None:
    """The tenant's endpoint unless it was deleted (disabled ones are returned: the caller
    says why it will not send)."""
    rows = await uow.session.execute(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.tenant_id == tenant_id,
            WebhookEndpoint.deleted_at.is_(None),
        )
    )
    return rows.scalar_one_or_none()


async def outlet_name(uow: UnitOfWork, *, tenant_id: str, outlet_id: str) -> str | None:
    rows = await uow.session.execute(
        select(Outlet.name).where(Outlet.id == outlet_id, Outlet.tenant_id == tenant_id)
    )
    return rows.scalar_one_or_none()
