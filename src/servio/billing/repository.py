"""Every query of the invoices context: invoices and credit notes, their split parts, the
table session and orders a bill is made from, and the payments/refunds sums reconciliation
reads. Tenant scoping comes from `TenantRepository`; races are decided by row locks
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers)
and single conditional statements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, delete, func, or_, select, update

from servio.billing.state import OPEN_STATUSES, InvoiceSettlement
from servio.kit.pagination import DEFAULT_LIMIT, apply_keyset, build_page
from servio.kit.repository import TenantRepository
from servio.models.invoice import Invoice, InvoiceSplit
from servio.models.media_asset import MediaAsset
from servio.models.order import Order, OrderLine
from servio.models.outlet import Outlet
from servio.models.payment import Payment, Refund
from servio.models.service_point import ServicePoint
from servio.models.session_member import SessionMember
from servio.models.table_session import TableSession


@dataclass(frozen=True)
class PaymentSums:
    paid: int
    refunded: int
    payments: int
    last_payment_at: datetime | None


@dataclass(frozen=True)
class MismatchRow:
    invoice: Invoice
    sums: PaymentSums


class InvoiceRepository(TenantRepository[Invoice]):
    model = Invoice
    sort_column = "issued_at"
    not_found_label = "invoice"

    async def get_in_outlet(self, invoice_id: str, outlet_id: str) -> Invoice | None:
        stmt = self.select().where(Invoice.id == invoice_id, Invoice.outlet_id == outlet_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def lock(self, invoice_id: str) -> Invoice | None:
        """The invoice, freshly read and locked until the transaction ends."""
        stmt = (
            self.select()
            .where(Invoice.id == invoice_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_session(self, session_id: str, *, kind: str | None = "invoice") -> list[Invoice]:
        stmt = self.select().where(Invoice.session_id == session_id)
        if kind is not None:
            stmt = stmt.where(Invoice.kind == kind)
        stmt = stmt.order_by(Invoice.issued_at, Invoice.id).execution_options(
            populate_existing=True
        )
        return list((await self.session.execute(stmt)).scalars())

    async def settlements_for_session(self, session_id: str) -> list[InvoiceSettlement]:
        """The session's invoices (not credit notes) as status and money figures only: the
        lines and tax figures, the bulk of a row, are not read or decoded."""
        stmt = (
            select(
                Invoice.id,
                Invoice.kind,
                Invoice.status,
                Invoice.total,
                Invoice.credited_amount,
                Invoice.paid_amount,
                Invoice.refunded_amount,
            )
            .where(self.scope(), Invoice.session_id == session_id, Invoice.kind == "invoice")
            .order_by(Invoice.issued_at, Invoice.id)
        )
        return [InvoiceSettlement(*row) for row in await self.session.execute(stmt)]

    async def billed_order_ids(self, order_ids: Iterable[str], session_id: str | None) -> set[str]:
        """The order ids among `order_ids` already on a non-void invoice."""
        wanted = set(order_ids)
        if not wanted:
            return set()
        stmt = select(Invoice.order_ids).where(
            self.scope(), Invoice.kind == "invoice", Invoice.status != "void"
        )
        if session_id is not None:
            stmt = stmt.where(Invoice.session_id == session_id)
        else:
            # Without a session only the invoices naming one of the ids (see `for_order`)
            # are read, not every counter/POS invoice the tenant ever issued.
            order_ids_text = cast(Invoice.order_ids, String)
            stmt = stmt.where(
                Invoice.session_id.is_(None),
                Invoice.source != "session",
                or_(*(order_ids_text.like(f'%"{i}"%') for i in wanted)),
            )
        billed: set[str] = set()
        for (ids,) in (await self.session.execute(stmt)).tuples():
            billed.update(i for i in ids or () if i in wanted)
        return billed

    async def for_order(self, order_id: str) -> Invoice | None:
        """The newest non-void invoice listing `order_id` (ULIDs are unique, so matching the
        quoted id in the JSON text is exact on SQLite and PostgreSQL alike)."""
        stmt = (
            self.select()
            .where(
                Invoice.kind == "invoice",
                Invoice.status != "void",
                cast(Invoice.order_ids, String).like(f'%"{order_id}"%'),
            )
            .order_by(Invoice.issued_at.desc(), Invoice.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def credit_notes_of(self, invoice_id: str) -> list[Invoice]:
        stmt = (
            self.select()
            .where(Invoice.original_invoice_id == invoice_id, Invoice.kind == "credit_note")
            .order_by(Invoice.issued_at, Invoice.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def page(
        self,
        outlet_id: str,
        *,
        status: str | None,
        session_id: str | None,
        kind: str | None,
        cursor: str | None,
        limit: int = DEFAULT_LIMIT,
    ) -> tuple[list[Invoice], str | None]:
        filters: list[ColumnElement[bool]] = [Invoice.outlet_id == outlet_id]
        if status is not None:
            filters.append(Invoice.status == status)
        if session_id is not None:
            filters.append(Invoice.session_id == session_id)
        if kind is not None:
            filters.append(Invoice.kind == kind)
        return await self.list_page(*filters, cursor=cursor, limit=limit)

    async def insert(self, invoice: Invoice) -> Invoice:
        return await self.add(invoice)

    async def set_settlement(self, invoice_id: str, **values: Any) -> Invoice:
        """Move only settlement columns (status, paid/refunded/credited amounts, due date)
        and bump the version; the snapshot columns are never in `values`."""
        allowed = {"status", "paid_amount", "refunded_amount", "credited_amount", "due_at"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not settlement columns: {sorted(unknown)}")
        await self.session.execute(
            update(Invoice)
            .where(self.scope(), Invoice.id == invoice_id)
            .values(**values, version=Invoice.version + 1)
            .execution_options(synchronize_session=False)
        )
        locked = await self.lock(invoice_id)
        assert locked is not None
        return locked

    # --- reconciliation -----------------------------------------------------------------

    def _paid_sums(self) -> Any:
        return (
            select(
                Payment.invoice_id.label("invoice_id"),
                func.coalesce(func.sum(Payment.amount), 0).label("paid"),
                func.count(Payment.id).label("payments"),
                func.max(Payment.succeeded_at).label("last_at"),
            )
            .where(Payment.tenant_id == self.tenant_id, Payment.status == "succeeded")
            .group_by(Payment.invoice_id)
            .subquery()
        )

    def _refund_sums(self) -> Any:
        return (
            select(
                Refund.invoice_id.label("invoice_id"),
                func.coalesce(func.sum(Refund.amount), 0).label("refunded"),
            )
            .where(Refund.tenant_id == self.tenant_id, Refund.status == "succeeded")
            .group_by(Refund.invoice_id)
            .subquery()
        )

    async def payment_sums(self, invoice_id: str) -> PaymentSums:
        """What the payments and refunds tables say was received and given back."""
        paid = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(Payment.amount), 0),
                    func.count(Payment.id),
                    func.max(Payment.succeeded_at),
                ).where(
                    Payment.tenant_id == self.tenant_id,
                    Payment.invoice_id == invoice_id,
                    Payment.status == "succeeded",
                )
            )
        ).one()
        refunded = (
            await self.session.execute(
                select(func.coalesce(func.sum(Refund.amount), 0)).where(
                    Refund.tenant_id == self.tenant_id,
                    Refund.invoice_id == invoice_id,
                    Refund.status == "succeeded",
                )
            )
        ).scalar_one()
        return PaymentSums(int(paid[0]), int(refunded), int(paid[1]), paid[2])

    async def mismatches(
        self, outlet_id: str, *, now: datetime, cursor: str | None, limit: int
    ) -> tuple[list[MismatchRow], str | None]:
        """Invoices whose stored settlement disagrees with the payments and refunds tables,
        or whose status disagrees with their figures (incl. unpaid past the due date)."""
        paid, refunds = self._paid_sums(), self._refund_sums()
        paid_sum = func.coalesce(paid.c.paid, 0)
        refunded_sum = func.coalesce(refunds.c.refunded, 0)
        net = paid_sum - refunded_sum
        balance = Invoice.total - Invoice.credited_amount - net
        open_status = Invoice.status.in_(tuple(OPEN_STATUSES))
        wrong = or_(
            Invoice.paid_amount != paid_sum,
            Invoice.refunded_amount != refunded_sum,
            and_(Invoice.status == "paid", balance > 0),
            and_(open_status, balance <= 0),
            and_(Invoice.status == "sent", net > 0),
            and_(Invoice.status == "partial", net <= 0),
            and_(
                Invoice.status.in_(("sent", "partial")),
                Invoice.due_at.is_not(None),
                Invoice.due_at < now,
            ),
        )
        stmt = (
            select(
                Invoice, paid_sum, refunded_sum, func.coalesce(paid.c.payments, 0), paid.c.last_at
            )
            .outerjoin(paid, paid.c.invoice_id == Invoice.id)
            .outerjoin(refunds, refunds.c.invoice_id == Invoice.id)
            .where(
                self.scope(),
                Invoice.outlet_id == outlet_id,
                Invoice.kind == "invoice",
                Invoice.status != "void",
                wrong,
            )
        )
        stmt = apply_keyset(stmt, Invoice.issued_at, Invoice.id, cursor=cursor, limit=limit)
        rows = [
            MismatchRow(inv, PaymentSums(int(p), int(r), int(n), last))
            for inv, p, r, n, last in (await self.session.execute(stmt)).tuples()
        ]
        return build_page(rows, limit=limit, key=lambda m: (m.invoice.issued_at, m.invoice.id))


class SplitRepository(TenantRepository[InvoiceSplit]):
    model = InvoiceSplit
    sort_column = "position"
    not_found_label = "split"

    async def for_invoices(self, invoice_ids: Iterable[str]) -> dict[str, list[InvoiceSplit]]:
        ids = tuple(set(invoice_ids))
        if not ids:
            return {}
        stmt = (
            self.select()
            .where(InvoiceSplit.invoice_id.in_(ids))
            .order_by(InvoiceSplit.invoice_id, InvoiceSplit.position)
            .execution_options(populate_existing=True)
        )
        out: dict[str, list[InvoiceSplit]] = {i: [] for i in ids}
        for row in (await self.session.execute(stmt)).scalars():
            out[row.invoice_id].append(row)
        return out

    async def named_by_payment(self, invoice_id: str) -> bool:
        """Whether a payment (any status but failed) names a part of the invoice's split,
        or a part already has money on it."""
        named = select(Payment.id).where(
            Payment.tenant_id == self.tenant_id,
            Payment.invoice_id == invoice_id,
            Payment.split_id.is_not(None),
            Payment.status != "failed",
        )
        if (await self.session.execute(named.limit(1))).first() is not None:
            return True
        paid = select(InvoiceSplit.id).where(
            self.scope(), InvoiceSplit.invoice_id == invoice_id, InvoiceSplit.paid_amount != 0
        )
        return (await self.session.execute(paid.limit(1))).first() is not None

    async def replace(self, invoice_id: str, parts: Sequence[InvoiceSplit]) -> None:
        await self.session.execute(
            delete(InvoiceSplit).where(self.scope(), InvoiceSplit.invoice_id == invoice_id)
        )
        await self.session.flush()
        await self.add_all(parts)

    async def add_paid(self, invoice_id: str, split_id: str, delta: int) -> bool:
        result = await self.session.execute(
            update(InvoiceSplit)
            .where(self.scope(), InvoiceSplit.id == split_id, InvoiceSplit.invoice_id == invoice_id)
            .values(paid_amount=InvoiceSplit.paid_amount + delta)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class BillSourceRepository(TenantRepository[TableSession]):
    """The table session, orders, members, outlet and table a bill is made from."""

    model = TableSession
    not_found_label = "table session"

    async def lock_session(self, session_id: str) -> TableSession | None:
        stmt = (
            self.select()
            .where(TableSession.id == session_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set_payment_status(self, session_id: str, status: str) -> None:
        await self.session.execute(
            update(TableSession)
            .where(self.scope(), TableSession.id == session_id)
            .values(payment_status=status, version=TableSession.version + 1)
            .execution_options(synchronize_session=False)
        )

    async def session_orders(self, session_id: str) -> list[Order]:
        stmt = (
            select(Order)
            .where(Order.tenant_id == self.tenant_id, Order.session_id == session_id)
            .order_by(Order.created_at, Order.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def orders(self, order_ids: Iterable[str]) -> list[Order]:
        ids = tuple(set(order_ids))
        if not ids:
            return []
        stmt = (
            select(Order)
            .where(Order.tenant_id == self.tenant_id, Order.id.in_(ids))
            .order_by(Order.created_at, Order.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def lines(self, order_ids: Iterable[str]) -> list[OrderLine]:
        ids = tuple(set(order_ids))
        if not ids:
            return []
        stmt = (
            select(OrderLine)
            .where(OrderLine.tenant_id == self.tenant_id, OrderLine.order_id.in_(ids))
            .order_by(OrderLine.order_id, OrderLine.position, OrderLine.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def members(self, session_id: str) -> list[SessionMember]:
        stmt = (
            select(SessionMember)
            .where(
                SessionMember.tenant_id == self.tenant_id, SessionMember.session_id == session_id
            )
            .order_by(SessionMember.created_at, SessionMember.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def outlet(self, outlet_id: str) -> Outlet | None:
        stmt = select(Outlet).where(Outlet.tenant_id == self.tenant_id, Outlet.id == outlet_id)
        row: Outlet | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def table_labels(self, session_ids: Iterable[str]) -> dict[str, str]:
        """Session id → the label of its table."""
        ids = tuple(set(session_ids))
        if not ids:
            return {}
        stmt = (
            select(TableSession.id, ServicePoint.label)
            .join(ServicePoint, ServicePoint.id == TableSession.service_point_id)
            .where(TableSession.tenant_id == self.tenant_id, TableSession.id.in_(ids))
        )
        return dict((await self.session.execute(stmt)).tuples().all())

    async def point_label(self, point_id: str | None) -> str | None:
        if point_id is None:
            return None
        stmt = select(ServicePoint.label).where(
            ServicePoint.tenant_id == self.tenant_id, ServicePoint.id == point_id
        )
        label: str | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return label

    async def media(self, media_id: str) -> MediaAsset | None:
        stmt = select(MediaAsset).where(
            MediaAsset.tenant_id == self.tenant_id, MediaAsset.id == media_id
        )
        row: MediaAsset | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row
