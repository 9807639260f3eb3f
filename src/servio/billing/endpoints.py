"""Staff invoice routes (BILL-05, BILL-07, BEY-02).

POST   /api/v1/sessions/{id}/bill             bill a table session (201 new / 200 open one)
POST   /api/v1/orders/{id}/bill               bill a counter order
GET    /api/v1/invoices                       list (status, session_id, kind; cursor)
GET    /api/v1/invoices/mismatches            invoices disagreeing with their payments
GET    /api/v1/invoices/{id}                  one invoice or credit note
GET    /api/v1/invoices/{id}/pdf?size=80mm|A4 PDF (HTML fallback)
POST   /api/v1/invoices/{id}/split            split the bill
POST   /api/v1/invoices/{id}/void             manager-approved full credit note
POST   /api/v1/invoices/{id}/reconcile        recompute from payments (idempotent)
PATCH  /api/v1/invoices/{id}                  always 409 INVOICE_IMMUTABLE
DELETE /api/v1/invoices/{id}                  always 409 INVOICE_IMMUTABLE
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Header, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, require_staff
from servio.billing import pdf, reconcile, service
from servio.billing.schemas import (
    InvoicePage,
    InvoiceRead,
    MismatchPage,
    ReconcileRead,
    SplitCreate,
    StaffBillCreate,
    VoidCreate,
)
from servio.billing.state import ALL_STATUSES
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.idempotency import IDEMPOTENCY_PROBLEMS, idempotent
from servio.kit.pagination import PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.media.dependencies import get_storage
from servio.realtime.pubsub import PubSub, get_pubsub
from servio.web.templating import csp_nonce

router = make_router(prefix="/api/v1", tags=["billing"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Pubsub = Annotated[PubSub, Depends(get_pubsub)]
Paging = Annotated[PageParams, Depends(page_params)]
Reader = Annotated[StaffActor, Depends(require_staff("billing.read"))]
Writer = Annotated[StaffActor, Depends(require_staff("billing.write"))]
Voider = Annotated[StaffActor, Depends(require_staff("billing.void"))]
InvoiceId = Annotated[str, Path(min_length=26, max_length=26, description="The invoice's ULID.")]
SessionId = Annotated[str, Path(min_length=26, max_length=26, description="The session's ULID.")]
OrderId = Annotated[str, Path(min_length=26, max_length=26, description="The order's ULID.")]

_STAFF = STAFF_OUTLET_ERRORS
_ONE = (*_STAFF, (404, "NOT_FOUND"))
_PRICING = (
    (422, "COUPON_NOT_FOUND"),
    (422, "COUPON_INACTIVE"),
    (422, "COUPON_EXPIRED"),
    (422, "COUPON_NOT_YET_VALID"),
    (422, "COUPON_MIN_SUBTOTAL"),
    (422, "NON_STACKABLE"),
    (422, "TIPS_DISABLED"),
    (422, "CONTACT_INVALID"),
    (409, "COUPON_CAP_REACHED"),
    (422, "VALIDATION_ERROR"),
)
_SPLIT = (
    (409, "SPLIT_LOCKED"),
    (409, "INVOICE_VOID"),
    (409, "INVOICE_SETTLED"),
    (409, "NOT_AN_INVOICE"),
    (422, "SPLIT_INVALID"),
    (422, "SPLIT_MISMATCH"),
    (422, "VALIDATION_ERROR"),
)
BILL_DESCRIPTION = (
    "Issues ONE invoice for every order of the session that is not cancelled and not on a "
    "non-void invoice yet, priced by the same engine as `POST /api/v1/pricing/preview` at "
    "this instant and frozen (lines with member and line ref, tax lines, tax basis, seller). "
    "The number is the next of the outlet's series (prefix + reset policy). When nothing new "
    "was ordered since the last bill, the open invoice is returned with `200`. The session's "
    "`payment_status` becomes `bill_requested` and the staff screens get `bill_requested`."
)


def _created_or_open(response: Response, created: bool) -> None:
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK


@router.post(
    "/sessions/{session_id}/bill",
    status_code=status.HTTP_201_CREATED,
    summary="Bill a table session: one invoice for its not-yet-billed orders",
    description=BILL_DESCRIPTION,
    response_model=InvoiceRead,
    responses={
        200: {"description": "Nothing new was ordered: the session's open invoice."},
        **problem_responses(*IDEMPOTENCY_PROBLEMS, *_ONE, (409, "NOTHING_TO_BILL"), *_PRICING),
    },
    dependencies=[Depends(require_staff("billing.write")), Depends(idempotent())],
)
async def bill_session(
    session_id: SessionId,
    body: StaffBillCreate,
    request: Request,
    response: Response,
    uow: Uow,
    pubsub: Pubsub,
    actor: Writer,
) -> InvoiceRead:
    outcome = await service.bill_session(
        uow, pubsub, app_settings(request), actor, session_id, body
    )
    _created_or_open(response, outcome.created)
    return await service.read_model(uow, outcome.invoice)


@router.post(
    "/orders/{order_id}/bill",
    status_code=status.HTTP_201_CREATED,
    summary="Bill a counter order (no table session)",
    description="An invoice for one counter order, priced and frozen like a table bill. "
    "A repeat returns the order's open invoice with `200`. An order of a table session is "
    "billed with its table (`409 ORDER_IN_SESSION`).",
    response_model=InvoiceRead,
    responses={
        200: {"description": "The order is billed already: its invoice."},
        **problem_responses(
            *IDEMPOTENCY_PROBLEMS,
            *_ONE,
            (409, "NOTHING_TO_BILL"),
            (409, "ORDER_IN_SESSION"),
            *_PRICING,
        ),
    },
    dependencies=[Depends(require_staff("billing.write")), Depends(idempotent())],
)
async def bill_order(
    order_id: OrderId,
    body: StaffBillCreate,
    request: Request,
    response: Response,
    uow: Uow,
    actor: Writer,
) -> InvoiceRead:
    outcome = await service.bill_order(uow, app_settings(request), actor, order_id, body)
    _created_or_open(response, outcome.created)
    return await service.read_model(uow, outcome.invoice)


@router.get(
    "/invoices",
    summary="The outlet's invoices and credit notes, newest first",
    response_model=InvoicePage,
    responses=problem_responses(*_STAFF, (422, "INVALID_CURSOR"), (422, "VALIDATION_ERROR")),
)
async def list_invoices(
    uow: Uow,
    actor: Reader,
    paging: Paging,
    status_filter: Annotated[
        str | None,
        Query(alias="status", description=f"One of {', '.join(ALL_STATUSES)}"),
    ] = None,
    session_id: Annotated[str | None, Query(max_length=26)] = None,
    kind: Annotated[Literal["invoice", "credit_note"] | None, Query()] = None,
) -> InvoicePage:
    return await service.list_invoices(
        uow,
        actor,
        status=status_filter,
        session_id=session_id,
        kind=kind,
        cursor=paging.cursor,
        limit=paging.limit,
    )


@router.get(
    "/invoices/mismatches",
    summary="Invoices whose status or amounts disagree with their payments (finance)",
    description="Needs `reports.finance` or `billing.void`. Each item says what the payments "
    "and refunds tables hold and the status they mean; repair one with "
    "`POST /api/v1/invoices/{id}/reconcile`.",
    response_model=MismatchPage,
    responses=problem_responses(*_STAFF, (422, "INVALID_CURSOR")),
)
async def mismatches(uow: Uow, actor: Reader, paging: Paging) -> MismatchPage:
    return await reconcile.mismatches(uow, actor, cursor=paging.cursor, limit=paging.limit)


@router.get(
    "/invoices/{invoice_id}",
    summary="One invoice or credit note, with its split parts",
    response_model=InvoiceRead,
    responses=problem_responses(*_ONE),
)
async def get_invoice(invoice_id: InvoiceId, uow: Uow, actor: Reader) -> InvoiceRead:
    return await service.read_model(uow, await service.get_invoice(uow, actor, invoice_id))


@router.get(
    "/invoices/{invoice_id}/pdf",
    summary="The invoice as a PDF: 80 mm roll or A4 (HTML fallback)",
    description="GSTIN, FSSAI licence, logo, lines, HSN-wise tax summary, tax lines, "
    "round-off, payments and split parts. Without WeasyPrint's system libraries — or with "
    "`Accept: text/html` — the same document comes back as print-ready HTML "
    "(`X-Servio-Render: html-fallback` / `html`).",
    response_class=Response,
    responses={
        200: {
            "description": "PDF, or HTML when PDF rendering is unavailable or not wanted.",
            "content": {"application/pdf": {}, "text/html": {}},
        },
        **problem_responses(*_ONE, (422, "VALIDATION_ERROR")),
    },
)
async def invoice_pdf(
    invoice_id: InvoiceId,
    request: Request,
    uow: Uow,
    actor: Reader,
    size: Annotated[pdf.PaperSize, Query(description="80mm (thermal roll) or A4")] = "A4",
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    facts = await service.document_facts(uow, actor, invoice_id, get_storage(request))
    wants_html = "text/html" in (accept or "") and "application/pdf" not in (accept or "")
    rendered = await run_in_threadpool(
        pdf.render_invoice,
        facts.read,
        size=size,
        timezone=facts.timezone,
        logo_uri=facts.logo_uri,
        nonce=csp_nonce(request),
        want_html=wants_html,
    )
    html = rendered.render == "html"
    filename = f"{facts.read.number}-{size}.{'html' if html else 'pdf'}"
    return Response(
        rendered.body,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'{"inline" if html else "attachment"}; filename="{filename}"',
            "Cache-Control": "private, no-store",
            "X-Servio-Render": ("html" if wants_html else "html-fallback") if html else "pdf",
        },
    )


@router.post(
    "/invoices/{invoice_id}/split",
    summary="Split the bill: by guest, by items, evenly or by amount",
    description="Parts always add up to the invoice's balance due. Re-splitting replaces "
    "the parts until a payment names one (`409 SPLIT_LOCKED`).",
    response_model=InvoiceRead,
    responses=problem_responses(*_ONE, *_SPLIT),
)
async def split(invoice_id: InvoiceId, body: SplitCreate, uow: Uow, actor: Writer) -> InvoiceRead:
    invoice = await service.staff_split(uow, actor, invoice_id, body)
    return await service.read_model(uow, invoice)


@router.post(
    "/invoices/{invoice_id}/void",
    summary="Void an invoice with a full credit note (manager approval)",
    description="Needs `billing.void` and an approval token for action `void` "
    "(`POST /api/v1/approvals/verify_pin`). Issues a credit note for the whole uncredited "
    "amount; the invoice becomes `void` and its orders can be billed again. Refused while "
    "money is on it (`409 INVOICE_HAS_PAYMENTS`: refund first).",
    response_model=InvoiceRead,
    responses=problem_responses(
        *_ONE,
        (403, "APPROVAL_REQUIRED"),
        (403, "APPROVAL_INVALID"),
        (409, "INVOICE_VOID"),
        (409, "INVOICE_HAS_PAYMENTS"),
        (409, "NOT_AN_INVOICE"),
        (422, "VALIDATION_ERROR"),
    ),
)
async def void(invoice_id: InvoiceId, body: VoidCreate, uow: Uow, actor: Voider) -> InvoiceRead:
    invoice = await service.void_invoice(uow, actor, invoice_id, body)
    return await service.read_model(uow, invoice)


@router.post(
    "/invoices/{invoice_id}/reconcile",
    summary="Reconcile an invoice with its payments (finance; idempotent)",
    description="Locks the invoice, recomputes paid and refunded amounts from the succeeded "
    "payments and refunds, and sets paid / partial / sent / overdue. Audited with "
    "before/after on every call; a second call changes nothing. Needs `reports.finance` or "
    "`billing.void`.",
    response_model=ReconcileRead,
    responses=problem_responses(*_ONE, (409, "NOT_AN_INVOICE"), (409, "ILLEGAL_TRANSITION")),
)
async def reconcile_invoice(invoice_id: InvoiceId, uow: Uow, actor: Reader) -> ReconcileRead:
    done = await reconcile.reconcile(uow, actor, invoice_id)
    return ReconcileRead(
        changed=done.changed,
        before=done.before,
        after=done.after,
        invoice=await service.read_model(uow, done.invoice),
    )


_IMMUTABLE = (
    "An issued invoice never changes (BILL-05): every edit and delete is refused with "
    "`409 INVOICE_IMMUTABLE`. Correct it with a credit note (void, or refund a payment)."
)


@router.patch(
    "/invoices/{invoice_id}",
    summary="Refused: an issued invoice never changes",
    description=_IMMUTABLE,
    response_model=InvoiceRead,
    responses=problem_responses(*_ONE, (409, "INVOICE_IMMUTABLE")),
)
async def patch_invoice(
    invoice_id: InvoiceId,
    uow: Uow,
    actor: Writer,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> InvoiceRead:
    await service.get_invoice(uow, actor, invoice_id)  # 404 before 409
    service.refuse_change()
    raise AssertionError("unreachable")  # pragma: no cover


@router.delete(
    "/invoices/{invoice_id}",
    summary="Refused: an issued invoice is never deleted",
    description=_IMMUTABLE,
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(*_ONE, (409, "INVOICE_IMMUTABLE")),
)
async def delete_invoice(invoice_id: InvoiceId, uow: Uow, actor: Writer) -> Response:
    await service.get_invoice(uow, actor, invoice_id)
    service.refuse_change()
    raise AssertionError("unreachable")  # pragma: no cover
