"""Every route of the real app declares who may call it, and every creating POST that touches
money or orders requires an `Idempotency-Key` (api.md "Route policies" / "Idempotency").

The checker walks `app.routes` (flat in FastAPI 0.115: included routers are copied in) and
reports every violation at once, so a new route without a policy fails here with its path.
"""

from __future__ import annotations

import re

from fastapi import Depends, FastAPI, WebSocket
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from servio.config import Settings
from servio.kit.idempotency import idempotent
from servio.kit.policy import RoutePolicy, mark_policy, route_is_idempotent, route_policies
from servio.kit.routing import ServioRoute, make_router
from servio.main import create_app

# Creating POSTs that touch money or orders. Matched against the route's path template; the
# collection being created into is the last path segment, so actions on an existing thing
# (`/orders/bulk-progress`, `/orders/{id}/status`) are not caught.
MONEY_OR_ORDER_POSTS: tuple[re.Pattern[str], ...] = (
    re.compile(r"/orders$"),  # guest POST /orders, staff POST /api/v1/orders
    re.compile(r"/payments$"),  # POST /api/v1/invoices/{id}/payments
    re.compile(r"/pay$"),  # any "pay this" shortcut
    re.compile(r"/refunds$"),  # POST /api/v1/payments/{id}/refunds
    re.compile(r"/bills?$"),  # POST /g/{qr_token}/bill, /api/v1/sessions/{id}/bill
    re.compile(r"/[\w-]*redemptions$"),  # ticket, voucher and coupon redemptions
    re.compile(r"/redeem$"),  # POST /api/v1/tickets/{id}/redeem and the like
    re.compile(r"/checkout$"),  # POST /api/v1/open_tickets/{id}/checkout
)

# A matching POST that deliberately does without a key, with the reason. Keep it short.
IDEMPOTENCY_EXEMPT: dict[str, str] = {
    "/api/v1/onboarding/{onboarding_id}/payments": "wizard step: stores accepted payment "
    "modes, moves no money; repeating it is harmless",
    "/api/onboarding/{onboarding_id}/payments": "seed alias of the wizard step above",
}


def _docs_paths(app: FastAPI) -> set[str]:
    paths = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    return {p for p in paths if p}


def _needs_idempotency(route: APIRoute) -> bool:
    return (
        "POST" in route.methods
        and route.path not in IDEMPOTENCY_EXEMPT
        and any(p.search(route.path) for p in MONEY_OR_ORDER_POSTS)
    )


def _is_framework_route(route: BaseRoute, docs: set[str]) -> bool:
    """FastAPI's own docs pages and static file mounts carry no policy."""
    if isinstance(route, Route) and route.path in docs:
        return True
    return isinstance(route, Mount) and isinstance(route.app, StaticFiles)


def _label(route: APIRoute | APIWebSocketRoute) -> str:
    if isinstance(route, APIRoute):
        return f"{','.join(sorted(route.methods))} {route.path}"
    return f"WS {route.path}"


def policy_violations(app: FastAPI) -> list[str]:
    problems: list[str] = []
    docs = _docs_paths(app)
    for route in app.routes:
        if not isinstance(route, APIRoute | APIWebSocketRoute):
            if not _is_framework_route(route, docs):
                path = getattr(route, "path", "?")
                problems.append(f"{type(route).__name__} {path}: bypasses route policies")
            continue
        label = _label(route)
        policies = route_policies(route)
        if len(policies) != 1:
            declared = [p.describe() for p in policies] or "none"
            problems.append(f"{label}: needs exactly one policy, has {declared}")
        if isinstance(route, APIRoute):
            if not route.summary:
                problems.append(f"{label}: no summary")
            if not isinstance(route, ServioRoute):
                problems.append(f"{label}: not a ServioRoute (use make_router())")
            if _needs_idempotency(route) and not route_is_idempotent(route):
                problems.append(f"{label}: money/order POST without idempotent()")
    return problems


def test_every_route_of_the_app_declares_its_policy(settings: Settings) -> None:
    app = create_app(settings, run_worker=False)
    assert len(app.routes) > len(_docs_paths(app))  # the walk saw the real routes
    assert policy_violations(app) == []


@mark_policy(RoutePolicy("public"))
async def _public() -> None:
    return None


@mark_policy(RoutePolicy("staff", "payments.create"))
async def _staff() -> None:
    return None


async def _no_op() -> dict[str, str]:
    return {}


async def _raw(_: Request) -> PlainTextResponse:
    return PlainTextResponse("hi")


def test_the_checker_flags_bad_routes() -> None:
    app = FastAPI()
    router = make_router()
    router.add_api_route("/fine", _no_op, summary="Fine", dependencies=[Depends(_public)])
    router.add_api_route(
        "/api/v1/invoices/{invoice_id}/payments",
        _no_op,
        methods=["POST"],
        summary="Pay, safely",
        dependencies=[Depends(_staff), Depends(idempotent())],
    )
    router.add_api_route("/unguarded", _no_op, summary="Nobody checks")
    router.add_api_route(
        "/both", _no_op, summary="Two policies", dependencies=[Depends(_public), Depends(_staff)]
    )
    router.add_api_route(
        "/api/v1/payments/{payment_id}/refunds",
        _no_op,
        methods=["POST"],
        summary="Refund twice on retry",
        dependencies=[Depends(_staff)],
    )
    router.add_api_route(
        "/api/v1/orders/bulk-progress",
        _no_op,
        methods=["POST"],
        summary="Not a creation",
        dependencies=[Depends(_staff)],
    )

    @router.websocket("/ws/open")
    async def open_socket(websocket: WebSocket) -> None:
        await websocket.close()

    app.include_router(router)
    app.add_api_route("/plain", _no_op, dependencies=[Depends(_public)])  # FastAPI's route
    app.add_route("/raw", _raw)

    assert sorted(policy_violations(app)) == sorted(
        [
            "GET /unguarded: needs exactly one policy, has none",
            "GET /both: needs exactly one policy, has ['public', 'staff:payments.create']",
            "POST /api/v1/payments/{payment_id}/refunds: money/order POST without idempotent()",
            "WS /ws/open: needs exactly one policy, has none",
            "GET /plain: no summary",
            "GET /plain: not a ServioRoute (use make_router())",
            "Route /raw: bypasses route policies",
        ]
    )


def test_money_patterns_cover_the_documented_endpoints() -> None:
    must = [
        "/orders",
        "/api/v1/orders",
        "/api/v1/invoices/{id}/payments",
        "/api/v1/payments/{id}/refunds",
        "/g/{qr_token}/bill",
        "/api/v1/sessions/{id}/bill",
        "/api/v1/open_tickets/{id}/checkout",
        "/api/v1/coupon_redemptions",
        "/api/v1/tickets/{id}/redeem",
    ]
    must_not = [
        "/api/v1/orders/bulk-progress",
        "/api/v1/pricing/preview",
        "/api/v1/orders/{id}/status",
        "/api/v1/kds/tickets/{id}/pick",
        "/api/v1/payments/webhook",
        "/session/{id}/start_new",
    ]
    assert [p for p in must if not any(r.search(p) for r in MONEY_OR_ORDER_POSTS)] == []
    assert [p for p in must_not if any(r.search(p) for r in MONEY_OR_ORDER_POSTS)] == []
