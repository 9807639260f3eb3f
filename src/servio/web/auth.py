"""Who is calling, for the HTML pages.

Pages use `servio.auth.dependencies.require_staff()` like the API does (the console cookie
is one of its credentials). Two additions are specific to browsers:

- `require_staff_form()`: the policy for plain HTML `<form method=post>` submissions. A
  form cannot set the `X-CSRF-Token` header the API expects, so the same double-submit token
  travels as the hidden field `csrf_token` instead: it must equal both the readable CSRF
  cookie and the HMAC of the session id.
- `optional_page_user()`: public pages (landing, sign-in) greet a signed-in visitor, but a
  missing, expired or revoked cookie simply means "not signed in".
- `outlet_page_context()`: the shell of an outlet-bound staff screen (grid, POS, KDS): the
  caller's outlet and the template context every such page starts from.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Form, Request

from servio.auth.actors import StaffActor
from servio.auth.cookies import csrf_cookie_name, session_cookie_name
from servio.auth.dependencies import app_settings, staff_from_token
from servio.auth.service import StaffProfile, staff_profile
from servio.auth.tokens import csrf_token_for, decode_access_token
from servio.kit.context import tenant_var, user_var
from servio.kit.db import UnitOfWork
from servio.kit.errors import Conflict, Forbidden, ProblemError, Unauthorized
from servio.kit.policy import RoutePolicy, mark_policy
from servio.kit.routing import request_context
from servio.models import Outlet
from servio.web.forms import PageUser


def _bind(request: Request, actor: StaffActor) -> None:
    request.state.actor = actor
    request.state.tenant_id = actor.tenant_id
    request.state.user_id = actor.id
    tenant_var.set(actor.tenant_id)
    user_var.set(actor.id)


@mark_policy(RoutePolicy("staff"))
async def require_staff_form(request: Request, csrf_token: str = Form("")) -> StaffActor:
    """A signed-in staff member submitting an HTML form with a valid CSRF field.

    401 without a live session cookie, 403 `CSRF_FAILED` when the field is wrong."""
    settings = app_settings(request)
    token = request.cookies.get(session_cookie_name(settings))
    if not token:
        raise Unauthorized("sign in first")
    claims = decode_access_token(settings, token)
    expected = csrf_token_for(settings, claims.session_id)
    cookie = request.cookies.get(csrf_cookie_name(settings), "")
    if not (hmac.compare_digest(csrf_token, expected) and hmac.compare_digest(cookie, expected)):
        raise Forbidden(
            "the form's security token is missing or wrong; reload the page", code="CSRF_FAILED"
        )
    ctx = request_context(request)
    await ctx.scope_tenant(claims.tenant_id)
    actor = await staff_from_token(await ctx.open(), settings, token)
    _bind(request, actor)
    return actor


def page_user(request: Request, profile: StaffProfile) -> PageUser:
    return PageUser(
        id=profile.user.id,
        name=profile.user.name,
        email=profile.user.email,
        roles=profile.actor.roles,
        tenant_name=profile.tenant.name,
        outlet_name=profile.outlet.name if profile.outlet is not None else None,
        csrf_token=csrf_token_for(app_settings(request), profile.actor.session_id),
    )


async def outlet_page_context(
    request: Request, uow: UnitOfWork, actor: StaffActor, active_nav: str
) -> tuple[Outlet, dict[str, Any]]:
    """The caller's outlet and the base context (`user`, `outlet`, `active_nav`) of a staff
    screen that works in one outlet; 409 `OUTLET_REQUIRED` when the account has none."""
    profile = await staff_profile(uow, actor)
    outlet = profile.outlet
    if outlet is None:
        raise Conflict(
            "OUTLET_REQUIRED",
            "your account is not working in an outlet",
            hint="ask an owner to grant you an outlet",
        )
    context: dict[str, Any] = {
        "user": page_user(request, profile),
        "outlet": outlet,
        "active_nav": active_nav,
    }
    return outlet, context


async def optional_page_user(request: Request) -> PageUser | None:
    """The signed-in visitor of a public page, or None (never an error)."""
    settings = app_settings(request)
    token = request.cookies.get(session_cookie_name(settings))
    if not token:
        return None
    try:
        claims = decode_access_token(settings, token)
        ctx = request_context(request)
        await ctx.scope_tenant(claims.tenant_id)
        uow = await ctx.open()
        actor = await staff_from_token(uow, settings, token)
        return page_user(request, await staff_profile(uow, actor))
    except ProblemError:
        return None
