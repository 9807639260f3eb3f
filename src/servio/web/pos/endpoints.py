"""The staff POS screen (ORD-03, seed 001): take an order for a table or the counter, park
it as an open ticket, resume and check out open tickets.

The page is a server-rendered shell; `static/js/pos.js` reads the menu
(`GET /api/v1/pos/menu`), the floor (`GET /api/v1/tables/map`) and the open tickets
(`GET /api/v1/open_tickets`), and acts through the JSON API with the session cookie and the
CSRF header: `POST /api/v1/orders`, `POST/PATCH /api/v1/open_tickets…`. Prices shown are the
server's; the order is priced again by the server when it is sent.

Runs on `PageRoute`: a visitor without a session is sent to sign in, one without
`orders.write` gets the branded 403 page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.kit.db import UnitOfWork
from servio.kit.routing import get_uow
from servio.web.auth import outlet_page_context
from servio.web.endpoints import PageRoute
from servio.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["web"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Cashier = Annotated[StaffActor, Depends(require_staff("orders.write"))]


@router.get("/pos", summary="Staff POS: order entry and open tickets", response_class=HTMLResponse)
async def pos_page(request: Request, uow: Uow, actor: Cashier) -> Response:
    _, context = await outlet_page_context(request, uow, actor, "pos")
    context["can_read_tables"] = actor.can("tables.read")
    return render(request, "pos/pos.html", context)
