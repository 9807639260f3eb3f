"""The staff dashboard grid (UI-02, seed 004 §5): every table of the outlet, live.

The page is a server-rendered shell; the browser reads the floor map
(`GET /api/v1/tables/map`) and the sessions (`GET /api/v1/sessions?state=…`), follows
`WS /ws/staff` with the session cookie (falling back to `GET /api/v1/events/stream`), and
acts through the JSON API with the cookie and the CSRF header: Close
(`PATCH /session/{id}/close`), Restore (`PATCH /session/{id}/restore`) and the outlet's QR
ordering switch (`PUT /api/v1/outlet/ordering`). See `static/js/staff.js`.

Runs on `PageRoute`: a visitor without a session is sent to sign in, one without
`sessions.read` gets the branded 403 page.
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
from servio.sessions.state import AMBER_UNPAID_AFTER
from servio.web.auth import outlet_page_context
from servio.web.endpoints import PageRoute
from servio.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["web"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
GridStaff = Annotated[StaffActor, Depends(require_staff("sessions.read"))]


@router.get("/staff", summary="Staff dashboard grid", response_class=HTMLResponse)
async def staff_grid(request: Request, uow: Uow, actor: GridStaff) -> Response:
    outlet, context = await outlet_page_context(request, uow, actor, "staff")
    context.update(
        can_manage=actor.can("sessions.manage"),
        can_toggle=actor.can("ordering.toggle"),
        can_bill=actor.can("billing.write"),
        ordering_enabled=outlet.qr_ordering_enabled,
        amber_after_secs=int(AMBER_UNPAID_AFTER.total_seconds()),
    )
    return render(request, "staff/grid.html", context)
