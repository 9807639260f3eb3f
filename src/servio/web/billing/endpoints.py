"""The staff bill screens (BILL-05, PAY-01…04, STAFF-02) and the cash drawer screen.

- `/staff/bills`: the outlet's open invoices (bill requests from phones and bills staff
  printed) and the seated tables that have no bill yet ("Bill" → `POST
  /api/v1/sessions/{id}/bill`).
- `/staff/bills/{invoice_id}`: one invoice's figures, split parts, payments; "Take
  payment" (cash with tendered → change, card with the terminal reference, UPI with the
  12-digit UTR), "Refund" behind a manager PIN (`POST /api/v1/approvals/verify_pin`, then
  `POST /api/v1/payments/{id}/refunds`), PDF links (80 mm and A4).
- `/cash`: open a drawer with a float, cash in/out, no-sale (PIN), close with the counted
  amount → expected vs counted and the variance; the session's movements.

Each page is a server-rendered shell; `static/js/bills.js` and `static/js/cash.js` act
through the JSON API with the session cookie and the CSRF header, and every money POST
carries an `Idempotency-Key` kept for retries of the same click. What the caller may do
comes from their permissions (`data-can-*`), the API checks again.

Runs on `PageRoute`: a visitor without a session is sent to sign in, one without the
permission gets the branded 403 page.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound
from servio.kit.routing import get_uow
from servio.web.auth import outlet_page_context
from servio.web.endpoints import PageRoute
from servio.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["web"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
BillReader = Annotated[StaffActor, Depends(require_staff("billing.read"))]
CashReader = Annotated[StaffActor, Depends(require_staff("cash.read"))]

_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{10,32}$")


def _flags(actor: StaffActor) -> dict[str, bool]:
    return {
        "can_bill": actor.can("billing.write"),
        "can_take": actor.can("payments.take"),
        "can_read_payments": actor.can("payments.read"),
        "can_refund": actor.can("payments.refund"),
        "can_read_sessions": actor.can("sessions.read"),
        "can_cash": actor.can("cash.read"),
    }


@router.get("/staff/bills", summary="Staff: open bills of the outlet", response_class=HTMLResponse)
async def bills_page(request: Request, uow: Uow, actor: BillReader) -> Response:
    _, context = await outlet_page_context(request, uow, actor, "staff")
    context.update(_flags(actor), staff_tab="bills")
    return render(request, "billing/bills.html", context)


@router.get(
    "/staff/bills/{invoice_id}",
    summary="Staff: one bill, its payments and refunds",
    response_class=HTMLResponse,
)
async def bill_page(request: Request, uow: Uow, actor: BillReader, invoice_id: str) -> Response:
    if not _ID_SHAPE.match(invoice_id):
        raise NotFound("bill")
    _, context = await outlet_page_context(request, uow, actor, "staff")
    context.update(_flags(actor), staff_tab="bills", invoice_id=invoice_id)
    return render(request, "billing/bill.html", context)


@router.get("/cash", summary="Staff: the cash drawer", response_class=HTMLResponse)
async def cash_page(request: Request, uow: Uow, actor: CashReader) -> Response:
    _, context = await outlet_page_context(request, uow, actor, "staff")
    context.update(
        _flags(actor),
        staff_tab="cash",
        can_open=actor.can("cash.open"),
        can_move=actor.can("cash.movements"),
        can_close=actor.can("cash.close"),
    )
    return render(request, "billing/cash.html", context)
