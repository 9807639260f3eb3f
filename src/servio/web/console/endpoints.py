"""Console pages for setting up an outlet (UI-04): the onboarding wizard, the menu editor,
tables with their QR codes, and guest feedback with the daily pass (GUEST-10, GUEST-04).

Each page is a server-rendered shell with what the server already knows (the wizard's saved
answers, the licence usage); the edits themselves go from the browser to the JSON API
(`/api/v1/onboarding`, `/api/v1/menu`, `/api/v1/tables`, `/api/v1/media`, `/api/v1/feedback`,
`/api/v1/daily_pass`, `/api/v1/flags`, `/api/v1/settings`) with the session cookie and the
CSRF header (`static/js/console/*.js`). Pages run on `PageRoute`, so a visitor without a
session is sent to sign in and a refusal is the branded error page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.auth.service import StaffProfile, staff_profile
from servio.floor.state import TRANSITIONS
from servio.kit.db import UnitOfWork
from servio.kit.errors import Conflict, NotFound
from servio.kit.routing import get_uow
from servio.models import Outlet
from servio.web.auth import page_user
from servio.web.console import choices
from servio.web.console.repository import ConsoleOnboardingRepository
from servio.web.console.usage import console_usage_bars
from servio.web.console.views import (
    STEP_KEYS,
    WIZARD_STEPS,
    current_step,
    next_step,
    previous_step,
    stepper,
)
from servio.web.endpoints import PageRoute
from servio.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["web"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
SetupStaff = Annotated[StaffActor, Depends(require_staff("settings.write"))]
MenuStaff = Annotated[StaffActor, Depends(require_staff("menu.read"))]
TablesStaff = Annotated[StaffActor, Depends(require_staff("tables.read"))]
GuestsStaff = Annotated[StaffActor, Depends(require_staff("reports.read"))]


async def _profile_with_outlet(uow: UnitOfWork, actor: StaffActor) -> tuple[StaffProfile, Outlet]:
    profile = await staff_profile(uow, actor)
    if profile.outlet is None:
        raise Conflict(
            "OUTLET_REQUIRED",
            "your account is not working in an outlet",
            hint="ask an owner to grant you an outlet",
        )
    return profile, profile.outlet


def _page(
    request: Request, profile: StaffProfile, template: str, context: dict[str, Any]
) -> Response:
    values: dict[str, Any] = {"user": page_user(request, profile), "active_nav": "console"}
    values.update(context)
    return render(request, template, values)


# --- onboarding wizard ---------------------------------------------------------------------


@router.get("/console/setup", summary="Setup wizard: start or resume", response_class=HTMLResponse)
async def setup_entry(request: Request, uow: Uow, actor: SetupStaff) -> Response:
    profile, outlet = await _profile_with_outlet(uow, actor)
    latest = await ConsoleOnboardingRepository(uow.session, actor.tenant_id).latest_for_outlet(
        outlet.id
    )
    if latest is not None and latest.status != "finished":
        return RedirectResponse(f"/console/setup/{latest.id}", status_code=303)  # resume
    return _page(
        request,
        profile,
        "console/setup_start.html",
        {"outlet": outlet, "steps": WIZARD_STEPS, "finished": latest, "console_tab": "setup"},
    )


@router.get(
    "/console/setup/{onboarding_id}",
    summary="Setup wizard: one step",
    response_class=HTMLResponse,
)
async def setup_step(
    request: Request,
    uow: Uow,
    actor: SetupStaff,
    onboarding_id: str,
    step: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    profile = await staff_profile(uow, actor)
    repo = ConsoleOnboardingRepository(uow.session, actor.tenant_id)
    session = await repo.get(onboarding_id)
    outlet = await repo.outlet(session.outlet_id) if session is not None else None
    if session is None or outlet is None:
        raise NotFound("onboarding session")
    completed = [key for key in session.completed_steps if key in STEP_KEYS]
    shown = current_step(step, completed)
    saved = session.data if isinstance(session.data, dict) else {}
    return _page(
        request,
        profile,
        "console/setup.html",
        {
            "outlet": outlet,
            "onboarding": session,
            "finished": session.status == "finished",
            "step": shown,
            "step_title": next(s.title for s in WIZARD_STEPS if s.key == shown),
            "step_number": STEP_KEYS.index(shown) + 1,
            "step_count": len(STEP_KEYS),
            "stepper": stepper(shown, completed),
            "next_step": next_step(shown),
            "previous_step": previous_step(shown),
            "saved": saved.get(shown) or {},
            "all_saved": saved,
            "timezones": choices.TIMEZONES,
            "languages": choices.LANGUAGES,
            "weekdays": choices.WEEKDAYS,
            "payment_modes": choices.PAYMENT_MODES,
            "state_codes": choices.STATE_CODES,
            "invoice_resets": choices.INVOICE_RESETS,
            "console_tab": "setup",
        },
    )


# --- menu and tables -----------------------------------------------------------------------


@router.get("/console/menu", summary="Menu editor", response_class=HTMLResponse)
async def menu_page(request: Request, uow: Uow, actor: MenuStaff) -> Response:
    profile, outlet = await _profile_with_outlet(uow, actor)
    return _page(
        request,
        profile,
        "console/menu.html",
        {
            "outlet": outlet,
            "can_write": actor.can("menu.write"),
            "can_stock": actor.can("menu.stock"),
            "usage": await console_usage_bars(
                uow, actor.tenant_id, ("max_menu_items", "max_images_mb")
            ),
            "gst_rates": choices.GST_RATES,
            "stations": choices.STATIONS,
            "dietary_tags": choices.DIETARY_TAGS,
            "allergens": choices.ALLERGENS,
            "console_tab": "menu",
        },
    )


@router.get("/console/tables", summary="Tables and QR codes", response_class=HTMLResponse)
async def tables_page(request: Request, uow: Uow, actor: TablesStaff) -> Response:
    profile, outlet = await _profile_with_outlet(uow, actor)
    return _page(
        request,
        profile,
        "console/tables.html",
        {
            "outlet": outlet,
            "can_state": actor.can("tables.state"),
            "can_qr": actor.can("tables.qr"),
            "can_write": actor.can("tables.write"),
            "transitions": {k: sorted(v) for k, v in TRANSITIONS.items()},
            "usage": await console_usage_bars(uow, actor.tenant_id, ("max_tables",)),
            "table_states": choices.TABLE_STATES,
            "console_tab": "tables",
        },
    )


# --- guest feedback and the daily pass ---------------------------------------------------


@router.get(
    "/console/guests",
    summary="Guest feedback and the daily pass",
    response_class=HTMLResponse,
)
async def guests_page(request: Request, uow: Uow, actor: GuestsStaff) -> Response:
    profile, outlet = await _profile_with_outlet(uow, actor)
    return _page(
        request,
        profile,
        "console/guests.html",
        {
            "outlet": outlet,
            # What the page may show and do; the API checks each call again.
            "can_pass": actor.can("settings.read"),
            "can_flag": actor.can("flags.write"),
            "can_rotate": actor.can("settings.write"),
            "console_tab": "guests",
        },
    )
