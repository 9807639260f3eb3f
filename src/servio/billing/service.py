"""Invoice use cases (BILL-05, BEY-02): issue bills, split them, credit and void them, and
record settlement for the payments context.

- Issuing. A bill is made from (a) a table session — every order of it that is not
  cancelled and not on a non-void invoice yet, (b) a POS checkout (`pos.service.
  billing_handoff`, in the checkout's transaction) or (c) a counter order. The lines are the
  orders' frozen lines; every figure comes from `billing.pricing.price_bill` (the one engine
  the preview uses) at the instant of issue and is frozen into the invoice row together with
  the tax basis and the seller. The number comes from the outlet's series
  (`billing.numbering` + `kit.sequences.next_number`: unique and gap-free; the counter row
  lock lasts until commit). Coupon caps are spent in the same transaction
  (`coupon_service.consume_caps`), so a failure gives the uses and the number back.
- Concurrency. The table session's row is locked before its orders are read, so two bill
  requests for one table run one after the other: the second finds nothing new and gets the
  first one's open invoice (200) instead of billing the orders twice.
- Immutability. Nothing here writes a snapshot column after issue; only `status`,
  `paid_amount`, `refunded_amount`, `credited_amount` and `due_at` move
  (`InvoiceRepository.set_settlement`). Corrections are credit notes.
- Settlement (`record_settlement`, called by payments): amounts, status (`billing.state`),
  the split part, then the table session's `payment_status` (bill_requested →
  partially_paid → settled). Settling completes the served orders through the order state
  machine and emits `session.settled` (the guest issue's auto-close reads `settled`).

Nothing here commits; live pushes go out after commit.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servio.audit import service as audit
from servio.auth.actors import AnyActor, GuestActor, StaffActor, SystemActor
from servio.billing import numbering
from servio.billing import split as splitting
from servio.billing.coupon_service import consume_caps
from servio.billing.credit_notes import Figures, credit_figures
from servio.billing.exceptions import (
    InvoiceHasPayments,
    InvoiceImmutable,
    InvoiceNotFound,
    InvoiceSettled,
    InvoiceVoid,
    NotAnInvoice,
    NothingToBill,
    SessionNotFound,
    SplitLocked,
)
from servio.billing.pricing import order_bill_lines, price_bill
from servio.billing.repository import BillSourceRepository, InvoiceRepository, SplitRepository
from servio.billing.schemas import (
    GuestPaymentOptions,
    InvoiceLineRead,
    InvoicePage,
    InvoiceRead,
    SplitCreate,
    SplitRead,
    StaffBillCreate,
    VoidCreate,
)
from servio.billing.state import (
    CREDIT_NOTE_STATUS,
    InvoiceSettlement,
    balance_due,
    check_transition,
    creditable,
    net_paid,
    status_for,
)
from servio.config import Settings
from servio.events import EventName
from servio.floor.qr import resolve_qr_token
from servio.kit.clock import as_utc, rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError
from servio.kit.ids import new_id
from servio.kit.sequences import next_number
from servio.kit.storage import Storage, StorageError
from servio.models.invoice import Invoice, InvoiceSplit
from servio.models.order import Order
from servio.models.outlet import Outlet
from servio.models.table_session import TableSession
from servio.ordering.announce import record_status_step
from servio.ordering.exceptions import OutletRequired
from servio.ordering.repository import OrderRepository
from servio.platform.flags import ENABLE_GATEWAY
from servio.platform.service import get_effective_settings, is_enabled
from servio.realtime.messages import BILL_REQUESTED
from servio.realtime.pubsub import PubSub
from servio.sessions.lifecycle import guest_session, publish_to_staff, touch_guest_session
from servio.worker.dispatch import emit

# A bill not settled a day after it was issued is overdue (a walk-out, or credit to chase).
DUE_AFTER: Final = timedelta(days=1)
# Orders a bill may include: everything not cancelled (served or still cooking).
UNBILLABLE_ORDER_STATUSES: Final = frozenset({"cancelled", "refunded"})
VOIDED_LINE: Final = "voided"


@dataclass(frozen=True)
class BillOutcome:
    invoice: Invoice
    created: bool  # False: nothing new was ordered; the open invoice is returned


# --- small helpers -------------------------------------------------------------------------


def staff_outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


def local_date(moment: datetime, timezone: str) -> Any:
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return as_utc(moment).astimezone(zone).date()


def _who(actor: AnyActor) -> tuple[str | None, str | None]:
    """(staff id, member id) for the issued_by columns."""
    if isinstance(actor, StaffActor):
        return actor.id, None
    if isinstance(actor, GuestActor):
        return None, actor.member_id
    return None, None


def _system(tenant_id: str) -> SystemActor:
    return SystemActor("billing", tenant_id)


def refuse_change() -> None:
    """Every write to an issued invoice (PATCH, DELETE …) is refused: 409 INVOICE_IMMUTABLE."""
    raise InvoiceImmutable()


async def _allocate_number(
    uow: UnitOfWork, outlet: Outlet, kind: numbering.DocumentKind, now: datetime
) -> tuple[str, str]:
    """(number, period) — the next in the outlet's `kind` series at `now` (outlet clock)."""
    period = numbering.period_key(outlet.invoice_reset, local_date(now, outlet.timezone))
    seq = await next_number(
        uow,
        tenant_id=outlet.tenant_id,
        scope=outlet.id,
        name=numbering.sequence_name(kind),
        period=period,
    )
    prefix = numbering.document_prefix(outlet.invoice_prefix or "INV-", kind)
    return numbering.format_number(prefix, period, seq), period


# --- reading -------------------------------------------------------------------------------


def _split_read(row: InvoiceSplit) -> SplitRead:
    return SplitRead(
        id=row.id,
        position=row.position,
        mode=row.mode,
        label=row.label,
        member_id=row.member_id,
        line_refs=list(row.line_refs or []),
        amount=row.amount,
        paid_amount=row.paid_amount,
        due=max(0, row.amount - row.paid_amount),
    )


def invoice_read(
    invoice: Invoice, splits: Sequence[InvoiceSplit], table_label: str | None
) -> InvoiceRead:
    return InvoiceRead(
        id=invoice.id,
        number=invoice.number,
        kind="credit_note" if invoice.kind == "credit_note" else "invoice",
        status=invoice.status,
        source=invoice.source,
        currency=invoice.currency,
        outlet_id=invoice.outlet_id,
        session_id=invoice.session_id,
        table_label=table_label,
        original_invoice_id=invoice.original_invoice_id,
        order_ids=list(invoice.order_ids or []),
        issued_at=as_utc(invoice.issued_at),
        due_at=as_utc(invoice.due_at) if invoice.due_at else None,
        lines=[InvoiceLineRead.model_validate(line) for line in invoice.lines or []],
        subtotal=invoice.subtotal,
        discount_total=invoice.discount_total,
        applied_coupons=list(invoice.applied_coupons or []),
        effective_discount=invoice.effective_discount,
        service_charge=invoice.service_charge,
        taxable_subtotal=invoice.taxable_subtotal,
        tax_lines=list(invoice.tax_lines or []),
        tax_total=invoice.tax_total,
        tip=invoice.tip,
        round_off=invoice.round_off,
        total=invoice.total,
        paid_amount=invoice.paid_amount,
        refunded_amount=invoice.refunded_amount,
        credited_amount=invoice.credited_amount,
        balance_due=balance_due(invoice) if invoice.kind == "invoice" else 0,
        splits=[_split_read(s) for s in splits],
        seller=dict(invoice.seller or {}),
        buyer=dict(invoice.buyer or {}),
        tax_basis=dict(invoice.tax_basis or {}),
        contact_hint=invoice.contact_hint or "",
        pdf_url=f"/api/v1/invoices/{invoice.id}/pdf",
        version=invoice.version,
    )


async def read_many(
    uow: UnitOfWork, tenant_id: str, invoices: Sequence[Invoice]
) -> list[InvoiceRead]:
    splits = await SplitRepository(uow.session, tenant_id).for_invoices(i.id for i in invoices)
    labels = await BillSourceRepository(uow.session, tenant_id).table_labels(
        i.session_id for i in invoices if i.session_id
    )
    return [invoice_read(i, splits.get(i.id, []), labels.get(i.session_id or "")) for i in invoices]


async def read_model(uow: UnitOfWork, invoice: Invoice) -> InvoiceRead:
    [read] = await read_many(uow, invoice.tenant_id, [invoice])
    return read


async def get_invoice(uow: UnitOfWork, actor: StaffActor, invoice_id: str) -> Invoice:
    invoice = await InvoiceRepository(uow.session, actor.tenant_id).get_in_outlet(
        invoice_id, staff_outlet(actor)
    )
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


async def list_invoices(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    status: str | None,
    session_id: str | None,
    kind: str | None,
    cursor: str | None,
    limit: int,
) -> InvoicePage:
    rows, next_cursor = await InvoiceRepository(uow.session, actor.tenant_id).page(
        staff_outlet(actor),
        status=status,
        session_id=session_id,
        kind=kind,
        cursor=cursor,
        limit=limit,
    )
    return InvoicePage(items=await read_many(uow, actor.tenant_id, rows), next_cursor=next_cursor)


# --- locking (used by payments) -------------------------------------------------------------


async def lock_invoice(uow: UnitOfWork, tenant_id: str, invoice_id: str) -> Invoice:
    """The invoice, locked until the transaction ends; 404 when it is not the tenant's."""
    invoice = await InvoiceRepository(uow.session, tenant_id).lock(invoice_id)
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


async def lock_staff_invoice(uow: UnitOfWork, actor: StaffActor, invoice_id: str) -> Invoice:
    invoice = await lock_invoice(uow, actor.tenant_id, invoice_id)
    if invoice.outlet_id != staff_outlet(actor):
        raise InvoiceNotFound()
    return invoice


# --- issuing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BillRequest:
    tip: int = 0
    coupons: tuple[str, ...] = ()
    contact: str | None = None
    place_of_supply: str | None = None
    buyer: Mapping[str, Any] | None = None


def _request_of(body: Any) -> _BillRequest:
    buyer = getattr(body, "buyer", None)
    return _BillRequest(
        tip=int(getattr(body, "tip", 0) or 0),
        coupons=tuple(getattr(body, "coupons", ()) or ()),
        contact=getattr(body, "contact", None),
        place_of_supply=getattr(body, "place_of_supply", None),
        buyer=buyer.model_dump(exclude_none=True) if buyer is not None else None,
    )


async def _issue(
    uow: UnitOfWork,
    settings: Settings | None,
    actor: AnyActor,
    *,
    outlet: Outlet,
    orders: Sequence[Order],
    source: str,
    session_id: str | None,
    request: _BillRequest,
    guest_key: str,
    now: datetime,
) -> Invoice:
    """Price `orders` and freeze the result into a new, numbered invoice."""
    tenant_id = outlet.tenant_id
    source_repo = BillSourceRepository(uow.session, tenant_id)
    position = {o.id: index for index, o in enumerate(orders)}
    order_lines = sorted(
        (ln for ln in await source_repo.lines(position) if ln.status != VOIDED_LINE),
        key=lambda ln: (position[ln.order_id], ln.position, ln.id),
    )
    if not order_lines:
        raise NothingToBill()
    priced = await price_bill(
        uow,
        tenant_id=tenant_id,
        outlet=outlet,
        lines=order_bill_lines(order_lines, {o.id: as_utc(o.created_at) for o in orders}),
        coupon_codes=list(request.coupons),
        tip=request.tip,
        payment_type=None,
        at=now,
        place_of_supply=request.place_of_supply,
    )
    figures = priced.figures
    shown = figures.as_dict()
    number, period = await _allocate_number(uow, outlet, "invoice", now)
    contact_hash, contact_hint = None, ""
    if request.contact:
        from servio.receipts.contact import contact_key

        secret = settings.secret_key if settings is not None else ""
        contact_hash, contact_hint = contact_key(secret, request.contact)
    staff_id, member_id = _who(actor)
    seller = {
        **priced.seller,
        "logo_media_id": outlet.logo_media_id,
        "state_code": priced.tax_basis.get("state_code"),
    }
    status = status_for(
        total=figures.total,
        paid_amount=0,
        refunded_amount=0,
        credited_amount=0,
        due_at=None,
        now=now,
    )
    invoice = await InvoiceRepository(uow.session, tenant_id).insert(
        Invoice(
            id=new_id(),
            outlet_id=outlet.id,
            kind="invoice",
            number=number,
            series_period=period,
            source=source,
            session_id=session_id,
            order_ids=list(position),
            currency=figures.currency,
            subtotal=figures.subtotal,
            discount_total=figures.discount_total,
            effective_discount=figures.effective_discount,
            applied_coupons=[
                c.as_dict() | {"coupon_id": c.coupon_id} for c in figures.applied_coupons
            ],
            service_charge=figures.service_charge,
            taxable_subtotal=figures.taxable_subtotal,
            tax_total=figures.tax_total,
            tip=figures.tip,
            round_off=figures.round_off,
            total=figures.total,
            lines=shown["lines"],
            tax_lines=shown["tax_lines"],
            tax_basis=priced.tax_basis,
            seller=seller,
            buyer=dict(request.buyer or {}),
            contact_hash=contact_hash,
            contact_hint=contact_hint,
            issued_at=now,
            issued_by=staff_id,
            issued_by_member=member_id,
            status=status,
            due_at=now + DUE_AFTER,
            created_at=now,
            updated_at=now,
            version=1,
        )
    )
    await consume_caps(
        uow,
        tenant_id=tenant_id,
        outlet_id=outlet.id,
        invoice_id=invoice.id,
        guest_key=guest_key,
        business_day=local_date(now, outlet.timezone).isoformat(),
        coupons=priced.coupons,
        actor=actor,
    )
    facts = {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "source": source,
        "session_id": session_id,
        "order_ids": list(position),
        "currency": invoice.currency,
        "total": invoice.total,
        "tax_total": invoice.tax_total,
    }
    await audit.record(
        uow,
        actor,
        "invoice.issued",
        subject_type="invoice",
        subject_id=invoice.id,
        after=facts | {"status": invoice.status, "coupons": [c[1] for c in priced.coupons]},
        outlet_id=outlet.id,
        tenant_id=tenant_id,
    )
    await emit(
        uow,
        EventName.INVOICE_ISSUED,
        tenant_id=tenant_id,
        outlet_id=outlet.id,
        payload=facts,
        dedupe_key=f"invoice.issued:{invoice.id}",
    )
    return invoice


async def _outlet(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> Outlet:
    outlet = await BillSourceRepository(uow.session, tenant_id).outlet(outlet_id)
    if outlet is None:  # pragma: no cover - the session/order points at it
        raise NotFound("outlet")
    return outlet


async def _bill_locked_session(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    settings: Settings | None,
    actor: AnyActor,
    session: TableSession,
    request: _BillRequest,
    guest_key: str,
) -> BillOutcome:
    """Bill the not-yet-billed orders of `session`, whose row the caller has locked."""
    tenant_id = session.tenant_id
    source_repo = BillSourceRepository(uow.session, tenant_id)
    invoices = InvoiceRepository(uow.session, tenant_id)
    orders = [
        o
        for o in await source_repo.session_orders(session.id)
        if o.status not in UNBILLABLE_ORDER_STATUSES
    ]
    billed = await invoices.billed_order_ids((o.id for o in orders), session.id)
    new = [o for o in orders if o.id not in billed]
    if not new:
        # A void invoice is fully credited, so its balance is 0 and it never shows here.
        existing = [i for i in await invoices.for_session(session.id) if balance_due(i) > 0]
        if existing:
            return BillOutcome(existing[-1], False)
        raise NothingToBill()
    now = utcnow()
    outlet = await _outlet(uow, tenant_id, session.outlet_id)
    invoice = await _issue(
        uow,
        settings,
        actor,
        outlet=outlet,
        orders=new,
        source="session",
        session_id=session.id,
        request=request,
        guest_key=guest_key,
        now=now,
    )
    await _sync_session(uow, actor, session.id, now, all_billed=orders)
    label = await source_repo.point_label(session.service_point_id)
    data = {"session_id": session.id, "invoice_id": invoice.id, "table": label}
    await emit(
        uow,
        EventName.BILL_REQUESTED,
        tenant_id=tenant_id,
        outlet_id=session.outlet_id,
        payload=data | {"number": invoice.number, "total": invoice.total},
        dedupe_key=f"bill.requested:{invoice.id}",
    )
    if pubsub is not None:
        publish_to_staff(uow, pubsub, session.outlet_id, BILL_REQUESTED, data)
    return BillOutcome(invoice, True)


async def bill_session(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    settings: Settings | None,
    actor: StaffActor,
    session_id: str,
    body: StaffBillCreate,
) -> BillOutcome:
    """`POST /api/v1/sessions/{id}/bill`."""
    outlet_id = staff_outlet(actor)
    session = await BillSourceRepository(uow.session, actor.tenant_id).lock_session(session_id)
    if session is None or session.outlet_id != outlet_id or session.state == "purged":
        raise SessionNotFound()
    return await _bill_locked_session(
        uow, pubsub, settings, actor, session, _request_of(body), guest_key=session.id
    )


async def guest_table_session(
    uow: UnitOfWork, settings: Settings, actor: GuestActor, qr_token: str, *, write: bool
) -> TableSession:
    """The caller's live session, which must sit at the table of `qr_token` (404 when the
    token is another table's or another tenant's; 410 when the session is over). For a
    write the session row is locked (and its activity recorded)."""
    point = await resolve_qr_token(uow, settings, qr_token, kind="table")
    if point.tenant_id != actor.tenant_id:
        await uow.set_tenant(actor.tenant_id)
        raise NotFound("service point")
    session = await (touch_guest_session(uow, actor) if write else guest_session(uow, actor))
    if session.service_point_id != point.id:
        raise NotFound("service point")
    return session


async def guest_bill(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    settings: Settings,
    actor: GuestActor,
    qr_token: str,
    body: Any,
) -> BillOutcome:
    """`POST /g/{qr_token}/bill`: the whole table's bill, asked for from a phone."""
    session = await guest_table_session(uow, settings, actor, qr_token, write=True)
    return await _bill_locked_session(
        uow,
        pubsub,
        settings,
        actor,
        session,
        _request_of(body),
        guest_key=actor.member_id or session.id,
    )


async def issue_for_order(
    uow: UnitOfWork,
    actor: AnyActor,
    order: Order,
    *,
    source: str,
    settings: Settings | None = None,
    body: Any = None,
) -> Invoice:
    """An invoice for one order (a POS checkout or a counter order), in the caller's
    transaction. 409 NOTHING_TO_BILL when the order is cancelled or already billed."""
    tenant_id = order.tenant_id
    if order.status in UNBILLABLE_ORDER_STATUSES:
        raise NothingToBill()
    billed = await InvoiceRepository(uow.session, tenant_id).billed_order_ids(
        [order.id], order.session_id
    )
    if billed:
        raise NothingToBill()
    outlet = await _outlet(uow, tenant_id, order.outlet_id)
    now = utcnow()
    invoice = await _issue(
        uow,
        settings,
        actor,
        outlet=outlet,
        orders=[order],
        source=source,
        session_id=order.session_id,
        request=_request_of(body) if body is not None else _BillRequest(),
        guest_key=order.session_id or order.id,
        now=now,
    )
    if order.session_id is not None:
        await _sync_session(uow, actor, order.session_id, now)
    return invoice


async def bill_order(
    uow: UnitOfWork,
    settings: Settings | None,
    actor: StaffActor,
    order_id: str,
    body: StaffBillCreate,
) -> BillOutcome:
    """`POST /api/v1/orders/{id}/bill`: a counter order's invoice; repeating it returns the
    order's open invoice (200)."""
    outlet_id = staff_outlet(actor)
    orders = OrderRepository(uow.session, actor.tenant_id)
    order = await orders.lock(order_id)
    if order is None or order.outlet_id != outlet_id:
        raise NotFound("order")
    if order.session_id is not None:
        raise ProblemError(
            409,
            "ORDER_IN_SESSION",
            "this order belongs to a table session",
            hint="bill the table: POST /api/v1/sessions/{id}/bill",
        )
    existing = await InvoiceRepository(uow.session, actor.tenant_id).for_order(order.id)
    if existing is not None:
        return BillOutcome(existing, False)
    invoice = await issue_for_order(
        uow, actor, order, source="counter", settings=settings, body=body
    )
    return BillOutcome(invoice, True)


# --- session payment status ----------------------------------------------------------------


def session_payment_status(invoices: Sequence[InvoiceSettlement], unbilled_orders: int) -> str:
    """unpaid (no bill) → bill_requested → partially_paid → settled (every bill paid and
    nothing left unbilled)."""
    live = [i for i in invoices if i.kind == "invoice" and i.status != "void"]
    if not live:
        return "unpaid"
    if unbilled_orders == 0 and all(i.status == "paid" for i in live):
        return "settled"
    if any(net_paid(i) > 0 for i in live):
        return "partially_paid"
    return "bill_requested"


async def _complete_served(
    uow: UnitOfWork, actor: AnyActor, order_ids: Sequence[str], now: datetime
) -> None:
    """Served orders → completed (settled), audited like any status step."""
    if not order_ids:
        return
    tenant_id = actor.tenant_id
    assert tenant_id is not None
    repo = OrderRepository(uow.session, tenant_id)
    for order in await BillSourceRepository(uow.session, tenant_id).orders(order_ids):
        if order.status != "served":
            continue
        moved = await repo.change_status(order.id, current="served", target="completed", now=now)
        if moved is not None:
            await record_status_step(
                uow, actor, order, before="served", target="completed", version=moved.version
            )


async def _sync_session(
    uow: UnitOfWork,
    actor: AnyActor,
    session_id: str,
    now: datetime,
    *,
    all_billed: Sequence[Order] | None = None,
) -> str | None:
    """Recompute the session's payment_status from its invoices (locking the session row
    first, so two payments on sibling invoices cannot both miss that the table is settled).
    A caller that has just put every billable order of the session it holds locked on an
    invoice passes them as `all_billed` instead of having them read again."""
    tenant_id = actor.tenant_id
    assert tenant_id is not None
    source_repo = BillSourceRepository(uow.session, tenant_id)
    session = await source_repo.lock_session(session_id)
    if session is None:
        return None
    invoice_repo = InvoiceRepository(uow.session, tenant_id)
    invoices = await invoice_repo.settlements_for_session(session_id)
    if all_billed is None:
        orders = [
            o
            for o in await source_repo.session_orders(session_id)
            if o.status not in UNBILLABLE_ORDER_STATUSES
        ]
        billed = await invoice_repo.billed_order_ids((o.id for o in orders), session_id)
        unbilled = len([o for o in orders if o.id not in billed])
    else:
        orders, unbilled = list(all_billed), 0
    status = session_payment_status(invoices, unbilled)
    before = session.payment_status
    if status == before:
        return status
    await source_repo.set_payment_status(session_id, status)
    await audit.record(
        uow,
        actor,
        "session.payment_status_changed",
        subject_type="table_session",
        subject_id=session_id,
        before={"payment_status": before},
        after={"payment_status": status},
        outlet_id=session.outlet_id,
        tenant_id=tenant_id,
    )
    if status == "settled":
        await _complete_served(uow, actor, [o.id for o in orders], now)
        await emit(
            uow,
            EventName.SESSION_SETTLED,
            tenant_id=tenant_id,
            outlet_id=session.outlet_id,
            payload={
                "session_id": session_id,
                "invoice_ids": [i.id for i in invoices if i.status != "void"],
                "settled_at": rfc3339(now),
            },
            dedupe_key=f"session.settled:{session_id}:{session.version}",
        )
    return status


# --- settlement (payments calls these) --------------------------------------------------------


async def record_settlement(
    uow: UnitOfWork,
    invoice: Invoice,
    *,
    paid_delta: int = 0,
    refunded_delta: int = 0,
    split_id: str | None = None,
    now: datetime,
    actor: AnyActor | None = None,
) -> Invoice:
    """Money in (`paid_delta`) or back (`refunded_delta`) on a LOCKED invoice
    (`lock_invoice`): amounts, status, the split part, then the session's payment status.
    Returns the invoice as updated. No commit."""
    who: AnyActor = actor if actor is not None else _system(invoice.tenant_id)
    if invoice.kind != "invoice":
        raise NotAnInvoice()
    if invoice.status == "void" and paid_delta > 0:
        raise InvoiceVoid()
    paid = invoice.paid_amount + paid_delta
    refunded = invoice.refunded_amount + refunded_delta
    if paid < 0 or refunded < 0 or refunded > paid:
        raise ProblemError(
            409,
            "SETTLEMENT_INVALID",
            "refunds cannot exceed what was paid",
            hint="refund at most the captured amount",
        )
    status = status_for(
        total=invoice.total,
        paid_amount=paid,
        refunded_amount=refunded,
        credited_amount=invoice.credited_amount,
        due_at=invoice.due_at,
        now=now,
    )
    before = {
        "status": invoice.status,
        "paid_amount": invoice.paid_amount,
        "refunded_amount": invoice.refunded_amount,
    }
    check_transition(invoice.status, status)
    repo = InvoiceRepository(uow.session, invoice.tenant_id)
    updated = await repo.set_settlement(
        invoice.id, paid_amount=paid, refunded_amount=refunded, status=status
    )
    if split_id is not None:
        moved = await SplitRepository(uow.session, invoice.tenant_id).add_paid(
            invoice.id, split_id, paid_delta - refunded_delta
        )
        if not moved:
            raise NotFound("split")
    await after_status_change(uow, who, updated, before, now)
    return updated


async def after_status_change(
    uow: UnitOfWork, actor: AnyActor, invoice: Invoice, before: Mapping[str, Any], now: datetime
) -> None:
    if before.get("status") != invoice.status:
        await audit.record(
            uow,
            actor,
            "invoice.status_changed",
            subject_type="invoice",
            subject_id=invoice.id,
            before=before,
            after={
                "status": invoice.status,
                "paid_amount": invoice.paid_amount,
                "refunded_amount": invoice.refunded_amount,
                "credited_amount": invoice.credited_amount,
            },
            outlet_id=invoice.outlet_id,
            tenant_id=invoice.tenant_id,
        )
        if invoice.status == "paid":
            await _complete_served(uow, actor, list(invoice.order_ids or []), now)
    if invoice.session_id is not None:
        await _sync_session(uow, actor, invoice.session_id, now)


# --- credit notes and voids -----------------------------------------------------------------


async def issue_credit_note(
    uow: UnitOfWork, actor: AnyActor, invoice: Invoice, *, amount: int, reason: str, now: datetime
) -> Invoice:
    """A credit note of `amount` against the LOCKED `invoice`: tax lines pro-rated
    (`billing.credit_notes`), the next number of the outlet's CN series, the invoice's
    `credited_amount` raised (void once fully credited). Returns the credit note."""
    if invoice.kind != "invoice":
        raise NotAnInvoice()
    if invoice.status == "void":
        raise InvoiceVoid()
    tenant_id = invoice.tenant_id
    repo = InvoiceRepository(uow.session, tenant_id)
    earlier = await repo.credit_notes_of(invoice.id)
    figures = credit_figures(Figures.of(invoice), [Figures.of(cn) for cn in earlier], amount)
    outlet = await _outlet(uow, tenant_id, invoice.outlet_id)
    number, period = await _allocate_number(uow, outlet, "credit_note", now)
    full = amount == creditable(invoice)
    if full and not earlier:
        lines = list(invoice.lines or [])
    else:
        lines = [
            {
                "ref": "credit",
                "name": f"Credit against {invoice.number}",
                "qty": 1,
                "unit_price": figures.taxable_subtotal,
                "subtotal": figures.taxable_subtotal,
                "discount": 0,
                "taxable_value": figures.taxable_subtotal,
                "hsn": None,
                "taxes": figures.tax_line_dicts(),
                "total": figures.total,
            }
        ]
    staff_id, member_id = _who(actor)
    note = await repo.insert(
        Invoice(
            id=new_id(),
            outlet_id=invoice.outlet_id,
            kind="credit_note",
            number=number,
            series_period=period,
            original_invoice_id=invoice.id,
            source=invoice.source,
            session_id=invoice.session_id,
            order_ids=list(invoice.order_ids or []),
            currency=invoice.currency,
            subtotal=figures.subtotal,
            discount_total=figures.discount_total,
            effective_discount=0,
            applied_coupons=[],
            service_charge=figures.service_charge,
            taxable_subtotal=figures.taxable_subtotal,
            tax_total=figures.tax_total,
            tip=figures.tip,
            round_off=figures.round_off,
            total=figures.total,
            lines=lines,
            tax_lines=figures.tax_line_dicts(),
            tax_basis=dict(invoice.tax_basis or {}) | {"reason": reason, "against": invoice.number},
            seller=dict(invoice.seller or {}),
            buyer=dict(invoice.buyer or {}),
            contact_hash=invoice.contact_hash,
            contact_hint=invoice.contact_hint,
            issued_at=now,
            issued_by=staff_id,
            issued_by_member=member_id,
            status=CREDIT_NOTE_STATUS,
            created_at=now,
            updated_at=now,
            version=1,
        )
    )
    credited = invoice.credited_amount + amount
    status = status_for(
        total=invoice.total,
        paid_amount=invoice.paid_amount,
        refunded_amount=invoice.refunded_amount,
        credited_amount=credited,
        due_at=invoice.due_at,
        now=now,
    )
    check_transition(invoice.status, status)
    before = {"status": invoice.status, "credited_amount": invoice.credited_amount}
    updated = await repo.set_settlement(invoice.id, credited_amount=credited, status=status)
    facts = {
        "credit_note_id": note.id,
        "number": note.number,
        "invoice_id": invoice.id,
        "invoice_number": invoice.number,
        "amount": amount,
        "tax_total": note.tax_total,
        "reason": reason,
    }
    await audit.record(
        uow,
        actor,
        "credit_note.issued",
        subject_type="invoice",
        subject_id=invoice.id,
        before=before,
        after=facts | {"status": updated.status, "credited_amount": credited},
        outlet_id=invoice.outlet_id,
        tenant_id=tenant_id,
    )
    await emit(
        uow,
        EventName.CREDIT_NOTE_ISSUED,
        tenant_id=tenant_id,
        outlet_id=invoice.outlet_id,
        payload=facts,
        dedupe_key=f"credit_note.issued:{note.id}",
    )
    if updated.session_id is not None:
        await _sync_session(uow, actor, updated.session_id, now)
    return note


async def void_invoice(
    uow: UnitOfWork, actor: StaffActor, invoice_id: str, body: VoidCreate
) -> Invoice:
    """`POST /api/v1/invoices/{id}/void`: a manager-approved full credit note; the invoice
    becomes void and its orders can be billed again. Refused while money is on it."""
    from servio.approvals.service import consume_approval

    invoice = await lock_staff_invoice(uow, actor, invoice_id)
    if invoice.kind != "invoice":
        raise NotAnInvoice()
    if invoice.status == "void":
        raise InvoiceVoid()
    if net_paid(invoice) > 0:
        raise InvoiceHasPayments(net_paid(invoice))
    now = utcnow()
    approval = await consume_approval(
        uow,
        tenant_id=actor.tenant_id,
        outlet_id=invoice.outlet_id,
        token=body.approval,
        action="void",
        subject_id=invoice.id,
        now=now,
        actor=actor,
    )
    note = await issue_credit_note(
        uow, actor, invoice, amount=creditable(invoice), reason=body.reason, now=now
    )
    await audit.record(
        uow,
        actor,
        "invoice.voided",
        subject_type="invoice",
        subject_id=invoice.id,
        before={"status": invoice.status},
        after={
            "status": "void",
            "credit_note_id": note.id,
            "reason": body.reason,
            "approval_id": approval.id,
        },
        outlet_id=invoice.outlet_id,
    )
    return await lock_invoice(uow, actor.tenant_id, invoice.id)


# --- splits ----------------------------------------------------------------------------------


def _split_lines(invoice: Invoice) -> list[splitting.SplitLine]:
    out = []
    for line in invoice.lines or []:
        weight = line.get("total")
        if weight is None:
            weight = int(line.get("taxable_value", 0)) + sum(
                int(t.get("amount", 0)) for t in line.get("taxes", [])
            )
        out.append(splitting.SplitLine(str(line["ref"]), int(weight), line.get("member_id")))
    return out


def compute_parts(
    invoice: Invoice, body: SplitCreate, members: Sequence[tuple[str, str]]
) -> list[splitting.Part]:
    """The parts `body` asks for, over the invoice's balance due."""
    amount = balance_due(invoice)
    lines = _split_lines(invoice)
    parts = body.parts
    if body.mode == "by_guest":
        shared = {s.line_ref: list(s.member_ids) for s in body.shared}
        return splitting.by_guest(amount, lines, members, shared)
    if body.mode == "even":
        if not isinstance(parts, int):
            raise splitting.SplitInvalid(
                "an even split needs `parts` as a number", 'send e.g. {"mode": "even", "parts": 3}'
            )
        return splitting.even(amount, parts)
    if body.mode == "by_items":
        if not isinstance(parts, list) or not all(hasattr(p, "line_refs") for p in parts):
            raise splitting.SplitInvalid(
                "a by_items split needs `parts: [{label, line_refs}]`", "list the lines per part"
            )
        groups = [
            (getattr(p, "label", "") or f"Part {i}", list(getattr(p, "line_refs", [])))
            for i, p in enumerate(parts, 1)
        ]
        return splitting.by_items(amount, lines, groups)
    if not isinstance(parts, list) or not all(hasattr(p, "amount") for p in parts):
        raise splitting.SplitInvalid(
            "a by_amount split needs `parts: [{label, amount}]`", "list the amount per part"
        )
    pairs = [
        (getattr(p, "label", "") or f"Part {i}", int(getattr(p, "amount", 0)))
        for i, p in enumerate(parts, 1)
    ]
    return splitting.by_amount(amount, pairs)


async def split_invoice(
    uow: UnitOfWork, actor: AnyActor, invoice: Invoice, body: SplitCreate
) -> Invoice:
    """Replace the split of the LOCKED `invoice` (409 SPLIT_LOCKED once a payment names a
    part). Returns the invoice."""
    if invoice.kind != "invoice":
        raise NotAnInvoice()
    if invoice.status == "void":
        raise InvoiceVoid()
    tenant_id = invoice.tenant_id
    splits = SplitRepository(uow.session, tenant_id)
    if await splits.named_by_payment(invoice.id):
        raise SplitLocked()
    if balance_due(invoice) == 0:
        raise InvoiceSettled()
    members: list[tuple[str, str]] = []
    if invoice.session_id is not None:
        rows = await BillSourceRepository(uow.session, tenant_id).members(invoice.session_id)
        members = [(m.id, m.nickname) for m in rows]
    parts = compute_parts(invoice, body, members)
    now = utcnow()
    await splits.replace(
        invoice.id,
        [
            InvoiceSplit(
                id=new_id(),
                invoice_id=invoice.id,
                position=position,
                mode=body.mode,
                label=part.label[:80],
                member_id=part.member_id,
                line_refs=list(part.line_refs),
                amount=part.amount,
                paid_amount=0,
                created_at=now,
            )
            for position, part in enumerate(parts)
        ],
    )
    facts = {
        "invoice_id": invoice.id,
        "mode": body.mode,
        "parts": [{"label": p.label, "member_id": p.member_id, "amount": p.amount} for p in parts],
    }
    await audit.record(
        uow,
        actor,
        "invoice.split",
        subject_type="invoice",
        subject_id=invoice.id,
        after=facts,
        outlet_id=invoice.outlet_id,
        tenant_id=tenant_id,
    )
    await emit(
        uow,
        EventName.INVOICE_SPLIT,
        tenant_id=tenant_id,
        outlet_id=invoice.outlet_id,
        payload=facts,
        dedupe_key=f"invoice.split:{invoice.id}:{new_id()}",
    )
    return invoice


async def staff_split(
    uow: UnitOfWork, actor: StaffActor, invoice_id: str, body: SplitCreate
) -> Invoice:
    invoice = await lock_staff_invoice(uow, actor, invoice_id)
    return await split_invoice(uow, actor, invoice, body)


# --- guest reads and split --------------------------------------------------------------------


async def guest_invoices(
    uow: UnitOfWork, settings: Settings, actor: GuestActor, qr_token: str
) -> list[Invoice]:
    session = await guest_table_session(uow, settings, actor, qr_token, write=False)
    return await InvoiceRepository(uow.session, actor.tenant_id).for_session(session.id, kind=None)


async def guest_payment_options(uow: UnitOfWork, actor: GuestActor) -> GuestPaymentOptions:
    """Whether the outlet takes tips and online payment, so the bill shows only what works."""
    settings = await get_effective_settings(uow, actor.tenant_id, actor.outlet_id)
    return GuestPaymentOptions(
        tips_enabled=bool(settings.get("tips_enabled", True)),
        gateway_enabled=await is_enabled(uow, actor.tenant_id, actor.outlet_id, ENABLE_GATEWAY),
    )


async def guest_invoice(
    uow: UnitOfWork,
    settings: Settings,
    actor: GuestActor,
    qr_token: str,
    invoice_id: str,
    *,
    lock: bool = False,
) -> Invoice:
    session = await guest_table_session(uow, settings, actor, qr_token, write=lock)
    repo = InvoiceRepository(uow.session, actor.tenant_id)
    invoice = await (repo.lock(invoice_id) if lock else repo.get(invoice_id))
    if invoice is None or invoice.session_id != session.id:
        raise InvoiceNotFound()
    return invoice


async def guest_split(
    uow: UnitOfWork,
    settings: Settings,
    actor: GuestActor,
    qr_token: str,
    invoice_id: str,
    body: SplitCreate,
) -> Invoice:
    invoice = await guest_invoice(uow, settings, actor, qr_token, invoice_id, lock=True)
    return await split_invoice(uow, actor, invoice, body)


# --- documents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentFacts:
    read: InvoiceRead
    timezone: str
    logo_uri: str | None


async def document_facts(
    uow: UnitOfWork, actor: StaffActor, invoice_id: str, storage: Storage
) -> DocumentFacts:
    """What the PDF needs: the frozen invoice, the outlet's clock, the logo as a data URI
    (None when there is none or it cannot be read: the invoice is still valid without)."""
    invoice = await get_invoice(uow, actor, invoice_id)
    source_repo = BillSourceRepository(uow.session, actor.tenant_id)
    outlet = await _outlet(uow, actor.tenant_id, invoice.outlet_id)
    logo_uri: str | None = None
    media_id = (invoice.seller or {}).get("logo_media_id")
    if media_id:
        asset = await source_repo.media(str(media_id))
        if asset is not None:
            try:
                data = await storage.get(asset.storage_key)
            except StorageError:
                data = b""
            if data:
                encoded = base64.b64encode(data).decode("ascii")
                logo_uri = f"data:{asset.content_type};base64,{encoded}"
    return DocumentFacts(await read_model(uow, invoice), outlet.timezone or "UTC", logo_uri)
