"""Console page "Coupons & happy hours" (`/console/coupons`, BILL-04, MENU-05): the outlet's
coupons with their usage (create, switch off) and its happy hours with an "in force now"
badge and the `FLAG_HAPPY_HOUR` state (create, delete, switch the flag).

A server-rendered shell; the browser calls `/api/v1/coupons`, `/api/v1/pricing/rules`,
`/api/v1/pricing/happy_hours/now`, `/api/v1/menu/categories` and `/api/v1/flags` with the
session cookie and CSRF header (`static/js/console/pricing.js`). The page needs
`pricing.preview`; what it offers to change follows `coupons.manage` and `flags.write`, and
the API checks every call again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.auth.service import staff_profile
from servio.billing.rules import DAYS
from servio.kit.db import UnitOfWork
from servio.kit.errors import Conflict
from servio.kit.routing import get_uow
from servio.web.auth import page_user
from servio.web.endpoints import PageRoute
from servio.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["web"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
PricingStaff = Annotated[StaffActor, Depends(require_staff("pricing.preview"))]

DAY_LABELS = dict(zip(DAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))


@router.get(
    "/console/coupons",
    summary="Coupons and happy hours",
    response_class=HTMLResponse,
)
async def coupons_page(request: Request, uow: Uow, actor: PricingStaff) -> Response:
    profile = await staff_profile(uow, actor)
    if profile.outlet is None:
        raise Conflict(
            "OUTLET_REQUIRED",
            "your account is not working in an outlet",
            hint="ask an owner to grant you an outlet",
        )
    return render(
        request,
        "console/pricing.html",
        {
            "user": page_user(request, profile),
            "active_nav": "console",
            "outlet": profile.outlet,
            "can_write": actor.can("coupons.manage"),
            "can_flag": actor.can("flags.write"),
            "can_menu": actor.can("menu.read"),
            "days": list(DAY_LABELS.items()),
            "console_tab": "coupons",
        },
    )
