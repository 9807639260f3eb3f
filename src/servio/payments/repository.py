"""Every query of the payments context.

Money moves by single conditional statements: a refund is one
`UPDATE payments SET refunded_amount = refunded_amount + :a WHERE … AND refunded_amount + :a
<= amount RETURNING …`, a gateway confirmation one `UPDATE … WHERE status = 'pending'`, and
a webhook is claimed by inserting its (gateway, event_id) — the database decides every race.

`GatewayLookup` is the one cross-tenant read: a provider's webhook names our payment id but
carries no tenant, so it is found with row-level security bypassed (like a QR token or a
login), after which the caller scopes the transaction to the payment's tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.ids import new_id
from servio.kit.repository import TenantRepository
from servio.models import (
    GatewayEvent,
    Invoice,
    InvoiceSplit,
    Payment,
    Refund,
    TableSession,
)


class PaymentRepository(TenantRepository[Payment]):
    model = Payment
    not_found_label = "payment"

    async def in_outlet(self, payment_id: str, outlet_id: str) -> Payment | None:
        stmt = (
            self.select()
            .where(Payment.id == payment_id, Payment.outlet_id == outlet_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_invoice(self, invoice_id: str) -> Sequence[Payment]:
        stmt = self.select().where(Payment.invoice_id == invoice_id).order_by(Payment.created_at)
        return (await self.session.execute(stmt)).scalars().all()

    async def page(
        self,
        outlet_id: str,
        *,
        method: str | None,
        status: str | None,
        since: datetime | None,
        until: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Payment], str | None]:
        filters: list[Any] = [Payment.outlet_id == outlet_id]
        if method is not None:
            filters.append(Payment.method == method)
        if status is not None:
            filters.append(Payment.status == status)
        if since is not None:
            filters.append(Payment.created_at >= since)
        if until is not None:
            filters.append(Payment.created_at < until)
        return await self.list_page(*filters, cursor=cursor, limit=limit)

    async def add_refund_to(self, payment_id: str, amount: int, now: datetime) -> Payment | None:
        """Add `amount` to a succeeded payment's `refunded_amount` unless that would exceed
        what it captured; the payment after (refreshed), or None (nothing changed)."""
        stmt = (
            update(Payment)
            .where(
                self.scope(),
                Payment.id == payment_id,
                Payment.status == "succeeded",
                Payment.refunded_amount + amount <= Payment.amount,
            )
            .values(
                refunded_amount=Payment.refunded_amount + amount,
                version=Payment.version + 1,
                updated_at=now,
            )
            .returning(Payment)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt, execution_options={"populate_existing": True})
        return result.scalar_one_or_none()

    async def settle_pending(
        self,
        payment_id: str,
        *,
        status: str,
        now: datetime,
        from_statuses: Sequence[str] = ("pending",),
        **values: Any,
    ) -> Payment | None:
        """`from_statuses` → `status` in one statement; None when the payment is in none of
        them any more (another delivery got there first)."""
        extra: dict[str, Any] = {"succeeded_at": now} if status == "succeeded" else {}
        stmt = (
            update(Payment)
            .where(self.scope(), Payment.id == payment_id, Payment.status.in_(list(from_statuses)))
            .values(status=status, version=Payment.version + 1, updated_at=now, **extra, **values)
            .returning(Payment)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt, execution_options={"populate_existing": True})
        return result.scalar_one_or_none()

    async def invoice_in_outlet(self, invoice_id: str, outlet_id: str) -> Invoice | None:
        stmt = select(Invoice).where(
            Invoice.tenant_id == self.tenant_id,
            Invoice.id == invoice_id,
            Invoice.outlet_id == outlet_id,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def split(self, invoice_id: str, split_id: str) -> InvoiceSplit | None:
        stmt = select(InvoiceSplit).where(
            InvoiceSplit.tenant_id == self.tenant_id,
            InvoiceSplit.invoice_id == invoice_id,
            InvoiceSplit.id == split_id,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def table_session(self, session_id: str) -> TableSession | None:
        stmt = select(TableSession).where(
            TableSession.tenant_id == self.tenant_id, TableSession.id == session_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class RefundRepository(TenantRepository[Refund]):
    model = Refund
    not_found_label = "refund"

    async def for_payment(self, payment_id: str) -> Sequence[Refund]:
        stmt = self.select().where(Refund.payment_id == payment_id).order_by(Refund.created_at)
        return (await self.session.execute(stmt)).scalars().all()


class GatewayEventRepository(TenantRepository[GatewayEvent]):
    model = GatewayEvent
    sort_column = "received_at"
    not_found_label = "gateway event"

    async def claim(
        self,
        *,
        gateway: str,
        event_id: str,
        event_type: str,
        outlet_id: str | None,
        payment_id: str | None,
        payload: dict[str, Any],
        now: datetime,
    ) -> str | None:
        """Store the event unless (gateway, event_id) is stored already (by any tenant):
        its new id, or None for a redelivery."""
        row_id = new_id()
        values = {
            "id": row_id,
            "tenant_id": self.tenant_id,
            "outlet_id": outlet_id,
            "gateway": gateway,
            "event_id": event_id,
            "event_type": event_type,
            "payment_id": payment_id,
            "outcome": "received",
            "payload": payload,
            "received_at": now,
        }
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(GatewayEvent)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["gateway", "event_id"])
            .returning(GatewayEvent.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set_outcome(self, row_id: str, outcome: str, payload: dict[str, Any]) -> None:
        stmt = (
            update(GatewayEvent)
            .where(self.scope(), GatewayEvent.id == row_id)
            .values(outcome=outcome, payload=payload)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def page(
        self,
        outlet_id: str,
        *,
        gateway: str | None,
        payment_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[GatewayEvent], str | None]:
        filters: list[Any] = [GatewayEvent.outlet_id == outlet_id]
        if gateway is not None:
            filters.append(GatewayEvent.gateway == gateway)
        if payment_id is not None:
            filters.append(GatewayEvent.payment_id == payment_id)
        return await self.list_page(*filters, cursor=cursor, limit=limit)


class GatewayLookup:
    """Cross-tenant reads for webhooks (row-level security bypassed by the caller)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def payment(self, payment_id: str) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def payment_by_ref(self, gateway: str, gateway_ref: str) -> Payment | None:
        stmt = select(Payment).where(Payment.gateway == gateway, Payment.gateway_ref == gateway_ref)
        return (await self.session.execute(stmt)).scalar_one_or_none()
