"""The kitchen display (UI-03, KDS-01): `/kds` and `/kds/expo`.

Both pages are server-rendered shells; the browser does the rest through the kitchen API
(`static/js/kds.js`):

- `/kds` without a station lists the outlet's stations (`GET /api/v1/kds/stations`) to pick
  one; `/kds?station=…` shows that station's tickets (`GET /api/v1/kds/tickets`), advances an
  item with a tap (`POST /api/v1/kds/items/{id}/status`), bumps a whole ticket from its header
  (`POST /api/v1/kds/tickets/{id}/bump`) and recalls a ready item.
- `/kds/expo` shows every station's cooking and ready tickets (`GET /api/v1/kds/expo`) and
  picks the oldest ready one with `P` (`POST /api/v1/kds/expo/pick_oldest`).

Both follow `WS /ws/kds?station=…` (station `*` on expo) with the session cookie, reconnect
with back-off, re-read on every `ready` and re-read periodically while the socket is down.

Runs on `PageRoute`: a visitor without a session is sent to sign in, one without `kds.read`
gets the branded 403 page.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.auth.permissions import is_permission
from servio.kit.db import UnitOfWork
from servio.kit.routing import get_uow
from servio.platform.service import get_effective_settings
from servio.web.auth import outlet_page_context
from servio.web.endpoints import PageRoute
from servio.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["web"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
KitchenStaff = Annotated[StaffActor, Depends(require_staff("kds.read"))]

DEFAULT_SLA_SECS = 900
STATION_MAX_LEN = 32  # as the kitchen API takes it


def station_label(station: str) -> str:
    """`tandoor-2` → "Tandoor 2", as the page script writes it."""
    words = (w for w in re.split(r"[-_\s]+", station) if w)
    return " ".join(w[:1].upper() + w[1:] for w in words)


def _can_pick(actor: StaffActor) -> bool:
    """Expo picks need `kds.pick` where the role table has it, else `kds.operate`."""
    return actor.can("kds.pick") if is_permission("kds.pick") else actor.can("kds.operate")


async def _page_context(
    request: Request, uow: UnitOfWork, actor: StaffActor, active: str
) -> dict[str, Any]:
    outlet, context = await outlet_page_context(request, uow, actor, "kds")
    settings = await get_effective_settings(uow, actor.tenant_id, outlet.id)
    sla = settings.get("kds_sla_secs", DEFAULT_SLA_SECS)
    context.update(
        sla_secs=sla if isinstance(sla, int) and sla > 0 else DEFAULT_SLA_SECS,
        can_operate=actor.can("kds.operate"),
        can_pick=_can_pick(actor),
        kds_view=active,
    )
    return context


@router.get("/kds", summary="Kitchen display", response_class=HTMLResponse)
async def kds_page(
    request: Request,
    uow: Uow,
    actor: KitchenStaff,
    station: Annotated[str, Query(max_length=STATION_MAX_LEN)] = "",
) -> Response:
    context = await _page_context(request, uow, actor, "station" if station.strip() else "picker")
    context["station"] = station.strip()
    context["station_label"] = station_label(station.strip())
    return render(request, "kds/station.html", context)


@router.get("/kds/expo", summary="Expo screen", response_class=HTMLResponse)
async def expo_page(request: Request, uow: Uow, actor: KitchenStaff) -> Response:
    context = await _page_context(request, uow, actor, "expo")
    context["station"] = "*"
    context["station_label"] = "Expo"
    return render(request, "kds/expo.html", context)
