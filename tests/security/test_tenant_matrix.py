"""S2: the cross-tenant matrix, generated from the app's OpenAPI.

Every object route (a path with an id parameter) is called with tenant A's real ids by
every caller who must not reach them — another tenant's staff and guest, nobody, a guest of
another table, staff of another outlet of the same tenant, disabled staff — for every
method it has (read and write). Another tenant always gets 404 (the object "does not
exist"); a caller of the wrong kind gets 401/403. Every staff list is read by the other
tenant (0 of A's rows) and by the other outlet (0 rows of A's outlet for outlet lists).
After the whole matrix not one row of tenant A has changed.

A route the matrix does not know fails the test with its name: add it to OBJECT_ROUTES or
LIST_ROUTES with its scope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from servio.config import Settings
from servio.kit.db import Database
from servio.kit.policy import route_policies
from tests.security.matrix import (
    Tenants,
    build_tenants,
    keyed,
    request_body,
    snapshot,
    tenant_ids,
)
from tests.soak import record

pytestmark = pytest.mark.backends

Scope = Literal["outlet", "tenant", "session", "namespace", "provider", "capability"]


@dataclass(frozen=True)
class Entry:
    """How a route's object is scoped, and which of tenant A's ids fill its path.

    outlet     staff object of one outlet: other tenant and other outlet → 404
    tenant     staff object of the whole tenant: other tenant → 404 (other outlets may see it)
    session    guest object of one table session (guest token): other guests → 403/404
    namespace  the parameter is a key in the caller's own namespace (a setting, a flag, a
               channel), not another tenant's object: only the wrong kinds of caller checked
    provider   provider operators only: every tenant caller → 401/403
    capability public; the path token is the credential (QR token, media file name,
               tenant slug for PIN login): an unknown token → 404
    """

    scope: Scope
    params: Mapping[str, str] = field(default_factory=dict)  # path param → Tenants.ids key
    body: Mapping[str, Any] | None = None  # overrides the generated minimal body


OBJECT_ROUTES: dict[str, Entry] = {
    "/api/outlet/{tenant}/staff/login": Entry("capability", {"tenant": "tenant"}),
    "/api/v1/staff/{staff_id}/deactivate": Entry("tenant", {"staff_id": "staff"}),
    "/api/v1/outlets/{outlet_id}": Entry("tenant", {"outlet_id": "outlet"}),
    "/api/v1/outlets/{outlet_id}/invoicing": Entry("tenant", {"outlet_id": "outlet"}),
    "/api/v1/settings/{key}": Entry("namespace", {"key": "=receipt_footer"}),
    "/api/v1/flags/{name}": Entry("namespace", {"name": "=LOYALTY"}),
    "/api/v1/provider/tenants/{tenant_id}/maintenance": Entry("provider", {"tenant_id": "tenant"}),
    "/api/v1/provider/tenants/{tenant_id}/limits": Entry("provider", {"tenant_id": "tenant"}),
    "/api/outlet/{tenant}/limits/usage": Entry("tenant", {"tenant": "tenant"}),
    "/api/v1/alerts/rules/{rule_id}": Entry("tenant", {"rule_id": "alert_rule"}),
    "/api/v1/alerts/rules/{rule_id}/test": Entry("tenant", {"rule_id": "alert_rule"}),
    "/api/v1/webhooks/endpoints/{endpoint_id}": Entry(
        "tenant", {"endpoint_id": "webhook_endpoint"}
    ),
    "/api/v1/webhooks/endpoints/{endpoint_id}/rotate_secret": Entry(
        "tenant", {"endpoint_id": "webhook_endpoint"}
    ),
    "/api/v1/webhooks/endpoints/{endpoint_id}/deliveries": Entry(
        "tenant", {"endpoint_id": "webhook_endpoint"}
    ),
    "/api/v1/webhooks/{message_id}/replay": Entry("tenant", {"message_id": "outbox_message"}),
    "/api/v1/outbox/{message_id}": Entry("tenant", {"message_id": "outbox_message"}),
    "/api/v1/outbox/{message_id}/retry": Entry("tenant", {"message_id": "outbox_message"}),
    "/api/v1/dlq/{message_id}/requeue": Entry("tenant", {"message_id": "outbox_message"}),
    "/api/v1/dlq/{message_id}": Entry("tenant", {"message_id": "outbox_message"}),
    "/api/v1/admin/integrations/{channel}/probe": Entry("namespace", {"channel": "=webhook"}),
    **{
        f"/api/v1/{kind}/{{point_id}}{suffix}": Entry(
            "outlet", {"point_id": lookup}, {"seats": 2} if suffix == "" else None
        )
        for kind, lookup in (("tables", "point"), ("rooms", "room"), ("counters", "counter"))
        for suffix in ("", "/qr/rotate", "/qr.svg", "/qr.png")
    },
    "/g/{qr_token}/menu": Entry("capability", {"qr_token": "qr_token"}),
    "/t/{qr_token}": Entry("capability", {"qr_token": "qr_token"}),
    "/session/{session_id}/start_new": Entry("session", {"session_id": "session"}),
    "/session/{session_id}": Entry("session", {"session_id": "session"}),
    "/session/{session_id}/cart": Entry("session", {"session_id": "session"}),
    "/session/{session_id}/updates": Entry("session", {"session_id": "session"}),
    "/session/{session_id}/validate_pass": Entry("session", {"session_id": "session"}),
    "/session/{session_id}/close": Entry("outlet", {"session_id": "session"}),
    "/session/{session_id}/restore": Entry("outlet", {"session_id": "session"}),
    "/api/v1/sessions/{session_id}": Entry("outlet", {"session_id": "session"}),
    "/api/v1/sessions/{session_id}/bill": Entry("outlet", {"session_id": "session"}),
    "/api/v1/orders/{order_id}": Entry("outlet", {"order_id": "order"}),
    "/api/v1/orders/{order_id}/status": Entry("outlet", {"order_id": "order"}),
    "/api/v1/orders/{order_id}/firing/retry": Entry("outlet", {"order_id": "order"}),
    "/api/v1/orders/{order_id}/firing/cancel": Entry("outlet", {"order_id": "order"}),
    "/api/v1/orders/{order_id}/firing/fired_manually": Entry("outlet", {"order_id": "order"}),
    "/api/v1/orders/{order_id}/bill": Entry("outlet", {"order_id": "order"}),
    "/api/v1/kot/{order_id}.pdf": Entry("outlet", {"order_id": "order"}),
    "/api/v1/open_tickets/{ticket_id}": Entry("outlet", {"ticket_id": "open_ticket"}),
    **{
        f"/api/v1/open_tickets/{{ticket_id}}/{action}": Entry(
            "outlet", {"ticket_id": "open_ticket"}
        )
        for action in ("resume", "checkout", "cancel")
    },
    **{
        f"/api/v1/invoices/{{invoice_id}}{suffix}": Entry("outlet", {"invoice_id": "invoice"})
        for suffix in ("", "/pdf", "/split", "/void", "/reconcile", "/payments")
    },
    "/g/{qr_token}/bill": Entry("session", {"qr_token": "qr_token"}),
    "/g/{qr_token}/invoices": Entry("session", {"qr_token": "qr_token"}),
    **{
        f"/g/{{qr_token}}/invoices/{{invoice_id}}{suffix}": Entry(
            "session", {"qr_token": "qr_token", "invoice_id": "invoice"}
        )
        for suffix in ("", "/split", "/pay")
    },
    "/api/v1/payments/{payment_id}": Entry("outlet", {"payment_id": "payment"}),
    "/api/v1/payments/{payment_id}/refunds": Entry("outlet", {"payment_id": "payment"}),
    "/api/v1/coupons/{coupon_id}": Entry("outlet", {"coupon_id": "coupon"}),
    "/api/v1/pricing/rules/{rule_id}": Entry("outlet", {"rule_id": "pricing_rule"}),
    "/api/v1/pricing/price_lists/{list_id}": Entry("outlet", {"list_id": "price_list"}),
    "/api/v1/cash/sessions/{session_id}": Entry("outlet", {"session_id": "cash_session"}),
    "/api/v1/cash/sessions/{session_id}/movements": Entry("outlet", {"session_id": "cash_session"}),
    "/api/v1/cash/sessions/{session_id}/close": Entry("outlet", {"session_id": "cash_session"}),
    "/api/v1/kds/items/{order_line_id}/status": Entry("outlet", {"order_line_id": "order_line"}),
    "/api/v1/kds/tickets/{ticket_id}/bump": Entry("outlet", {"ticket_id": "kitchen_ticket"}),
    "/api/v1/kds/tickets/{ticket_id}/pick": Entry("outlet", {"ticket_id": "kitchen_ticket"}),
    "/api/v1/kds/sla/breaches/{breach_id}/ack": Entry("outlet", {"breach_id": "sla_breach"}),
    "/api/v1/printers/{printer_id}": Entry("outlet", {"printer_id": "printer"}),
    "/api/v1/printers/{printer_id}/test": Entry("outlet", {"printer_id": "printer"}),
    "/api/v1/media/{media_id}": Entry("tenant", {"media_id": "media"}),
    "/media/{filename}": Entry("capability", {"filename": "=alpha-unknown.webp"}),
    "/api/v1/menu/categories/{category_id}": Entry("outlet", {"category_id": "category"}),
    "/api/v1/menu/items/{item_id}": Entry("outlet", {"item_id": "item"}),
    "/api/v1/menu/items/{item_id}/out_of_stock": Entry("outlet", {"item_id": "item"}),
    "/api/v1/menu/items/{item_id}/modifier-groups": Entry("outlet", {"item_id": "item"}),
    "/api/outlet/{tenant_id}/menu/item/{item_id}/out_of_stock": Entry(
        "outlet", {"tenant_id": "tenant", "item_id": "item"}
    ),
    "/api/v1/menu/modifier-groups/{group_id}": Entry("outlet", {"group_id": "modifier_group"}),
    "/api/v1/menu/modifier-groups/{group_id}/modifiers": Entry(
        "outlet", {"group_id": "modifier_group"}
    ),
    "/api/v1/menu/modifiers/{modifier_id}": Entry("outlet", {"modifier_id": "modifier"}),
    **{
        f"{prefix}/onboarding/{{onboarding_id}}{suffix}": Entry(
            "tenant", {"onboarding_id": "onboarding"}
        )
        for prefix in ("/api/v1", "/api")
        for suffix in (
            "",
            "/profile",
            "/tax",
            "/hours",
            "/tables",
            "/payments",
            "/invoicing",
            "/finish",
        )
    },
}

# Staff lists read by the other tenant and the other outlet: path → (scope, query string).
# "tenant" lists may show the other outlet rows of the same tenant; "outlet" lists may not.
LIST_ROUTES: dict[str, tuple[Scope, str]] = {
    "/api/v1/admin/dlq": ("tenant", ""),
    "/api/v1/admin/integrations": ("tenant", ""),
    "/api/v1/admin/jobs/status": ("tenant", ""),
    "/api/v1/alerts/outbox": ("tenant", ""),
    "/api/v1/alerts/rules": ("tenant", ""),
    "/api/v1/audit": ("tenant", ""),
    "/api/v1/cash/drawers": ("outlet", ""),
    "/api/v1/cash/sessions": ("outlet", ""),
    "/api/v1/cash/sessions/current": ("outlet", "drawer_id=01JD00000000000000000000ZZ"),
    "/api/v1/counters": ("outlet", ""),
    "/api/v1/coupons": ("outlet", ""),
    "/api/v1/daily_pass": ("outlet", ""),
    "/api/v1/dlq": ("tenant", ""),
    "/api/v1/feedback": ("outlet", ""),
    "/api/v1/feedback/summary": ("outlet", ""),
    "/api/v1/flags": ("tenant", ""),
    "/api/v1/invoices": ("outlet", ""),
    "/api/v1/invoices/mismatches": ("outlet", ""),
    "/api/v1/kds/expo": ("outlet", ""),
    "/api/v1/kds/sla/breaches": ("outlet", ""),
    "/api/v1/kds/stations": ("outlet", ""),
    "/api/v1/kds/tickets": ("outlet", ""),
    "/api/v1/limits/usage": ("tenant", ""),
    "/api/v1/media": ("tenant", ""),
    "/api/v1/menu/categories": ("outlet", ""),
    "/api/v1/menu/items": ("outlet", ""),
    "/api/v1/menu/modifier-groups": ("outlet", ""),
    "/api/v1/open_tickets": ("outlet", ""),
    "/api/v1/orders/queue": ("outlet", ""),
    "/api/v1/outbox": ("tenant", ""),
    "/api/v1/outlet/ordering": ("outlet", ""),
    "/api/v1/outlets": ("tenant", ""),
    "/api/v1/payments": ("outlet", ""),
    "/api/v1/payments/gateway_events": ("outlet", ""),
    "/api/v1/pos/menu": ("outlet", ""),
    "/api/v1/pricing/happy_hours/now": ("outlet", ""),
    "/api/v1/pricing/price_lists": ("outlet", ""),
    "/api/v1/pricing/rules": ("outlet", ""),
    "/api/v1/printers": ("outlet", ""),
    "/api/v1/printers/health": ("outlet", ""),
    "/api/v1/rooms": ("outlet", ""),
    "/api/v1/sessions": ("outlet", ""),
    "/api/v1/settings": ("tenant", ""),
    "/api/v1/staff/me": ("tenant", ""),
    "/api/v1/tables": ("outlet", ""),
    "/api/v1/tables/map": ("outlet", ""),
    "/api/v1/tables/qr-pack.pdf": ("outlet", ""),
    "/api/v1/tables/qr-pack/exports": ("outlet", ""),
    "/api/v1/tables/qr-pack/exports.csv": ("outlet", ""),
    "/api/v1/tables/qr-posters.zip": ("outlet", ""),
    "/api/v1/tenant": ("tenant", ""),
    "/api/v1/webhooks/endpoints": ("tenant", ""),
    # The SSE stream never ends; its messages are the staff socket's (tests/realtime).
    "/api/v1/events/stream": ("tenant", "skip"),
}

CALLERS = (
    "other tenant's staff",
    "other tenant's guest",
    "anonymous",
    "another table's guest",
    "disabled staff",
    "another outlet's staff",  # last: it is the only one who may legitimately succeed
)
WRONG_KIND = {401, 403}


def expected(policy: str, scope: Scope, caller: str) -> set[int] | None:
    """Allowed statuses, or None when the pair is not part of the matrix."""
    if scope == "provider":
        return WRONG_KIND
    if caller == "anonymous":
        return {401}
    staff_route = policy.startswith("staff")
    staff_caller = caller.endswith("staff")
    if staff_route != staff_caller:
        return WRONG_KIND
    if caller == "disabled staff":
        return {401}
    if scope == "namespace":
        return None  # the caller's own key: not another tenant's object
    if caller == "other tenant's staff":
        return {404}
    if caller == "another outlet's staff":
        return {404} if scope == "outlet" else None
    # A guest token of another table or tenant: refused for this session, never served.
    return {403, 404}


def _route_policy(app: FastAPI) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for route in app.routes:
        if isinstance(route, APIRoute):
            policies = route_policies(route)
            for method in route.methods:
                found[(method, route.path)] = policies[0].describe() if policies else "none"
    return found


def _fill(path: str, entry: Entry, t: Tenants, *, forged: bool = False) -> str:
    """`path` with tenant A's ids; `forged` swaps the last characters of each for others."""

    def value(match: re.Match[str]) -> str:
        lookup = entry.params[match.group(1)]
        real = lookup[1:] if lookup.startswith("=") else t.ids[lookup]
        if not forged:
            return real
        return real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")

    return re.sub(r"{(\w+)}", value, path)


async def _call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    body: Mapping[str, Any] | None,
) -> httpx.Response:
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        headers = {**keyed(headers), "If-Match": "1"}
    if body is None or method in ("GET", "DELETE"):
        return await client.request(method, url, headers=headers)
    return await client.request(method, url, headers=headers, json=dict(body))


def _unknown(paths: set[str], known: Mapping[str, Any], what: str) -> list[str]:
    missing = [f"{p}: {what} route has no matrix entry" for p in sorted(paths - known.keys())]
    stale = [f"{p}: matrix entry for a route that no longer exists" for p in known.keys() - paths]
    return missing + sorted(stale)


async def test_cross_tenant_matrix(
    backend: str, app: FastAPI, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    t = await build_tenants(client, db, settings)
    spec = app.openapi()
    policies = _route_policy(app)
    object_paths = {p for p in spec["paths"] if "{" in p}
    list_paths = {
        p
        for p, ops in spec["paths"].items()
        if "{" not in p and "get" in ops and policies[("GET", p)].startswith("staff")
    }
    failures = _unknown(object_paths, OBJECT_ROUTES, "object")
    failures += _unknown(list_paths, LIST_ROUTES, "list")

    before = await snapshot(db, t.a.tenant_id)
    calls = 0
    for path in sorted(object_paths & OBJECT_ROUTES.keys()):
        entry = OBJECT_ROUTES[path]
        url = _fill(path, entry, t)
        for method, operation in spec["paths"][path].items():
            method = method.upper()
            body = entry.body if entry.body is not None else request_body(spec, operation)
            if entry.scope == "capability":
                reply = await _call(client, method, _fill(path, entry, t, forged=True), {}, body)
                calls += 1
                if reply.status_code != 404:
                    failures.append(f"unknown token: {method} {path} → {reply.status_code}")
                continue
            for caller in CALLERS:
                allowed = expected(policies[(method, path)], entry.scope, caller)
                if allowed is None:
                    continue
                reply = await _call(client, method, url, t.callers[caller], body)
                calls += 1
                if reply.status_code not in allowed:
                    failures.append(
                        f"{caller}: {method} {path} → {reply.status_code}, expected "
                        f"{sorted(allowed)}: {reply.text[:160]}"
                    )

    # Lists are read after this snapshot: reading a QR pack records its export, by design.
    after = await snapshot(db, t.a.tenant_id)
    changed = sorted(name for name in before if before[name] != after[name])
    if changed:
        failures.append(f"tenant A's rows changed by refused calls in: {changed}")

    a_everything = await tenant_ids(db, t.a.tenant_id)
    a_outlet = await tenant_ids(db, t.a.tenant_id, t.a.outlet_id)
    lists = 0
    for path in sorted(list_paths & LIST_ROUTES.keys()):
        scope, query = LIST_ROUTES[path]
        if query == "skip":
            continue
        url = f"{path}?{query}" if query else path
        for caller, foreign in (
            ("other tenant's staff", a_everything),
            ("another outlet's staff", a_outlet if scope == "outlet" else set()),
        ):
            reply = await client.get(url, headers=t.callers[caller])
            lists += 1
            if reply.status_code >= 500:
                failures.append(f"{caller}: GET {url} → {reply.status_code}")
            leaked = sorted(i for i in foreign if i in reply.text)
            if leaked:
                failures.append(f"{caller}: GET {url} shows {len(leaked)} of A's rows {leaked[:3]}")

    record("S2", backend, object_calls=calls, list_calls=lists, failures=len(failures))
    assert failures == [], f"{len(failures)} matrix failures:\n" + "\n".join(failures)
    assert calls > 300  # the matrix really ran
    assert lists > 0
