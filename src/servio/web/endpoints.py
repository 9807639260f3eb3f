"""Server-rendered pages: landing, sign-in/out, the admin console home and the placeholder
pages of surfaces that ship in later releases.

Pages run on `PageRoute`: the usual one-transaction-per-request lifecycle, but a browser
without a valid session is sent to `/login?next=…` (303) instead of getting a 401 body, and
any other refusal becomes the branded HTML error page — a page never answers JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from servio.auth.actors import StaffActor
from servio.auth.cookies import clear_session_cookies, set_session_cookies
from servio.auth.dependencies import public, require_staff
from servio.auth.exceptions import RecordedFailure
from servio.auth.service import login_with_password, logout, staff_profile
from servio.config import Settings, get_settings
from servio.kit.client_ip import client_ip
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import ProblemError
from servio.kit.ratelimit import rate_limit, record_auth_failure
from servio.kit.routing import EarlyResponse, ServioRoute, get_uow
from servio.web import login_form
from servio.web.auth import optional_page_user, page_user, require_staff_form
from servio.web.console.usage import console_usage_bars
from servio.web.forms import FieldErrors, LoginError
from servio.web.pages import render_error_page
from servio.web.surfaces import CONSOLE_SETUP_LINKS, OPS_LINKS, SURFACES, surface
from servio.web.templating import render


def _settings(request: Request) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def _login_redirect(request: Request) -> RedirectResponse:
    target = "/login"
    if request.method in ("GET", "HEAD"):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"/login?next={quote(here, safe='/')}"
    response = RedirectResponse(target, status_code=303)
    # A stale or revoked session cookie would only bounce here again: drop it.
    clear_session_cookies(response, _settings(request))
    return response


class PageRoute(ServioRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except ProblemError as problem:
                if problem.status == 401:
                    return _login_redirect(request)
                detail = f"{problem.detail}. {problem.hint}" if problem.hint else problem.detail
                response = render_error_page(request, problem.status, problem.title, detail)
                response.headers.update(problem.headers)
                return response

        return run


router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["web"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Staff = Annotated[StaffActor, Depends(require_staff())]
StaffForm = Annotated[StaffActor, Depends(require_staff_form)]
Public = Depends(public)


# --- public pages ------------------------------------------------------------------------


@router.get("/", summary="Landing page", response_class=HTMLResponse, dependencies=[Public])
async def landing(request: Request) -> Response:
    return render(
        request,
        "landing.html",
        {
            "user": await optional_page_user(request),
            "surfaces": SURFACES,
            "ops_links": OPS_LINKS,
            "active_nav": "home",
        },
    )


@router.get(
    "/guest",
    summary="Guest ordering (later release)",
    response_class=HTMLResponse,
    dependencies=[Public],
)
async def guest_placeholder(request: Request) -> Response:
    return render(
        request,
        "surface.html",
        {
            "user": await optional_page_user(request),
            "surface": surface("guest"),
            "available": OPS_LINKS[:2],
        },
    )


# --- sign in / sign out ------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    status_code: int = 200,
    email: str = "",
    next_path: str = login_form.DEFAULT_AFTER_LOGIN,
    error: LoginError | None = None,
    otp_required: bool = False,
    notice: str = "",
) -> Response:
    """The sign-in form with a form token bound to this browser's pre-session cookie
    (reused when present, so several open tabs keep working)."""
    settings = _settings(request)
    cookie_name = login_form.presession_cookie_name(settings)
    presession = request.cookies.get(cookie_name) or login_form.new_presession_id()
    response = render(
        request,
        "login.html",
        {
            "form_token": login_form.issue_form_token(settings, presession, utcnow()),
            "next_path": next_path,
            "email": email,
            "error": error,
            "otp_required": otp_required,
            "notice": notice,
            "active_nav": "login",
        },
        status_code=status_code,
    )
    response.set_cookie(
        cookie_name,
        presession,
        max_age=int(login_form.FORM_TOKEN_MAX_AGE.total_seconds()),
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/login", summary="Sign-in form", response_class=HTMLResponse, dependencies=[Public])
async def login_page(request: Request, next: str = "") -> Response:
    next_path = login_form.safe_next_path(next)
    if await optional_page_user(request) is not None:
        return RedirectResponse(next_path, status_code=303)  # already signed in
    notice = "Please sign in to continue." if next else ""
    return _login_page(request, next_path=next_path, notice=notice)


_FAILURE_MESSAGES: dict[str, tuple[str, str, str]] = {
    # code: (alert title, alert text, field that is wrong)
    "INVALID_CREDENTIALS": ("Sign-in failed", "The email or password is not right.", "password"),
    "OTP_REQUIRED": ("One more step", "Enter the one-time code from your authenticator app.", ""),
    "OTP_INVALID": ("Sign-in failed", "That one-time code is wrong or has expired.", "otp"),
    "ACCOUNT_DISABLED": (
        "Account deactivated",
        "This account has been deactivated. Ask an owner or manager.",
        "",
    ),
}


def _login_error(problem: ProblemError) -> LoginError:
    title, text, field = _FAILURE_MESSAGES.get(problem.code, ("Sign-in failed", problem.detail, ""))
    fields = FieldErrors()
    if field == "password":
        fields = FieldErrors(password="Check your email and password.")
    elif field == "otp":
        fields = FieldErrors(otp=text)
    return LoginError(title=title, detail=text, field_errors=fields, code=problem.code)


@router.post(
    "/login",
    summary="Sign in (form post)",
    response_class=HTMLResponse,
    dependencies=[Public, Depends(rate_limit("login"))],
)
async def login_submit(
    request: Request,
    uow: Uow,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    otp: Annotated[str, Form(max_length=16)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    settings = _settings(request)
    next_path = login_form.safe_next_path(next)
    email = email.strip()
    presession = request.cookies.get(login_form.presession_cookie_name(settings))
    if not login_form.form_token_valid(settings, presession, csrf_token, utcnow()):
        return _login_page(
            request,
            status_code=403,
            email=email,
            next_path=next_path,
            error=LoginError(
                title="Your sign-in form expired",
                detail="For your security, please sign in again.",
                code="LOGIN_FORM_EXPIRED",
            ),
        )
    if not email or not password:
        return _login_page(
            request,
            status_code=422,
            email=email,
            next_path=next_path,
            error=LoginError(
                title="Sign-in failed",
                detail="Enter your email and password.",
                field_errors=FieldErrors(
                    email="" if email else "Enter your email.",
                    password="" if password else "Enter your password.",
                ),
                code="VALIDATION_ERROR",
            ),
        )
    try:
        issued = await login_with_password(
            uow,
            email,
            password,
            otp.strip() or None,
            ip=client_ip(request, settings),
            user_agent=request.headers.get("user-agent", ""),
            kind="cookie",
            settings=settings,
        )
    except ProblemError as problem:
        otp_step = problem.code in ("OTP_REQUIRED", "OTP_INVALID")
        page = _login_page(
            request,
            status_code=problem.status,
            email=email,
            next_path=next_path,
            error=_login_error(problem),
            otp_required=otp_step,
        )
        page.headers.update(problem.headers)
        if not isinstance(problem, RecordedFailure):
            raise EarlyResponse(page) from None  # nothing to keep: roll back
        if problem.code != "OTP_REQUIRED":
            await record_auth_failure(request)
        return page  # the failure's bookkeeping commits with this reply
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookies(response, issued, settings)
    response.delete_cookie(
        login_form.presession_cookie_name(settings),
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/logout", summary="Sign out (form post)", response_class=HTMLResponse)
async def logout_submit(request: Request, uow: Uow, actor: StaffForm) -> Response:
    await logout(uow, actor)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookies(response, _settings(request))
    return response


# --- signed-in pages ---------------------------------------------------------------------


@router.get("/console", summary="Admin console home", response_class=HTMLResponse)
async def console_home(request: Request, uow: Uow, actor: Staff) -> Response:
    profile = await staff_profile(uow, actor)
    usage = await console_usage_bars(uow, actor.tenant_id) if actor.can("settings.read") else []
    return render(
        request,
        "console.html",
        {
            "user": page_user(request, profile),
            "outlets": profile.outlets,
            "surfaces": SURFACES,
            "setup_links": CONSOLE_SETUP_LINKS,
            "usage": usage,
            "console_tab": "home",
            "active_nav": "console",
        },
    )


# /kds and /kds/expo live in servio.web.kds.
