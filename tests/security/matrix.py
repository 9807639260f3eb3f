"""Two tenants full of real objects, the callers of the cross-tenant matrix (S2), and a
minimal-body generator driven by the app's OpenAPI.

Tenant A ("Alpha") gets the invoice-test world (menu, table T4 with members Asha and Ravi,
cashier/waiter/kitchen/manager/finance), then an order, a bill → invoice, a cash payment,
a refund-ready payment, an open ticket, coupons, pricing rules, price lists, printers, alert
rules, webhook endpoints, a drawer and a cash session, a room, a counter, an SLA breach and an
onboarding run, each created through the API as tenant A's owner. Tenant B ("Bravo") gets the
same world so its staff and guests are fully working credentials.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from servio.config import Settings
from servio.kit.db import Base, Database
from servio.models import Outlet, ServicePoint
from servio.models.sla_breach import SlaBreach
from tests.billing.invoice_world import World, build_world, order, staff_bill
from tests.fixtures.auth import make_staff, staff_headers
from tests.ordering.conftest import open_table

# Tables whose rows a refused request may still touch legitimately (audit of the refusal,
# the caller's own session bookkeeping); everything else of tenant A must stay byte-identical.
SNAPSHOT_EXEMPT = {"audit_log", "auth_sessions", "pin_attempts", "idempotency_keys"}


def keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


@dataclass
class Tenants:
    a: World
    b: World
    a_owner: dict[str, str]
    b_owner: dict[str, str]
    a_owner_id: str
    ids: dict[str, str] = field(default_factory=dict)  # lookup name → tenant A's id
    callers: dict[str, dict[str, str]] = field(default_factory=dict)
    second_outlet_id: str = ""


async def _created(response: httpx.Response) -> str:
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


async def _first(db: Database, tenant_id: str, model_name: str, **where: Any) -> str:
    model = next(m.class_ for m in Base.registry.mappers if m.class_.__name__ == model_name)
    query = select(model.id).where(model.tenant_id == tenant_id)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    async with db.unit_of_work(bypass_rls=True) as uow:
        found = (await uow.session.execute(query.limit(1))).scalar_one_or_none()
    assert found is not None, f"no {model_name} row of tenant A"
    return str(found)


async def build_tenants(client: httpx.AsyncClient, db: Database, settings: Settings) -> Tenants:
    a = await build_world(db, settings, name="Alpha")
    b = await build_world(db, settings, name="Bravo")
    bistro = a.till.bistro
    owner = await make_staff(db, bistro.tenant, bistro.outlet, roles=["owner"])
    a_owner = await staff_headers(db, owner, outlet_id=a.outlet_id)
    b_bistro = b.till.bistro
    b_owner_user = await make_staff(db, b_bistro.tenant, b_bistro.outlet, roles=["owner"])
    b_owner = await staff_headers(db, b_owner_user, outlet_id=b.outlet_id)
    t = Tenants(a, b, a_owner, b_owner, owner.id)
    ids = t.ids
    ids.update(
        tenant=a.tenant_id,
        outlet=a.outlet_id,
        qr_token=a.qr,
        session=a.session_id,
        staff=a.till.user_ids["waiter"],
        item=bistro.items["salad"],
        media=bistro.image_id,
        point=bistro.table.id,
    )

    # Orders, a bill, payments.
    order_id = await order(client, db, a, "Asha", [("salad", 1, ())])
    ids["order"] = order_id
    await order(client, db, a, "Ravi", [("lassi", 2, ())])
    invoice = await staff_bill(client, a)
    invoice_id = str(invoice.get("id") or invoice["invoices"][0]["id"])
    ids["invoice"] = invoice_id
    drawer = await client.post(
        "/api/v1/cash/drawers", json={"name": "Front till"}, headers=a.manager
    )
    ids["drawer"] = await _created(drawer)
    cash = await client.post(
        "/api/v1/cash/sessions",
        json={"drawer_id": ids["drawer"], "opening_float": 0},
        headers=keyed(a.till.cashier),
    )
    ids["cash_session"] = await _created(cash)
    paid = await client.post(
        f"/api/v1/invoices/{invoice_id}/payments",
        json={"method": "cash", "amount": 1000, "tendered": 1000},
        headers=keyed(a.till.cashier),
    )
    ids["payment"] = await _created(paid)
    ticket = await client.post(
        "/api/v1/open_tickets",
        json={"name": "Bar tab", "items": [a.till.line("salad", 1)]},
        headers=a.till.cashier,
    )
    ids["open_ticket"] = await _created(ticket)

    # Admin objects through the API.
    owner_calls: dict[str, tuple[str, dict[str, Any]]] = {
        "coupon": (
            "/api/v1/coupons",
            {"code": "ALPHA10", "name": "Alpha", "kind": "percent", "percent": "10.00"},
        ),
        "pricing_rule": (
            "/api/v1/pricing/rules",
            {"name": "Lunch", "kind": "promotion", "percent": "5"},
        ),
        "price_list": (
            "/api/v1/pricing/price_lists",
            {"name": "Weekend", "prices": {ids["item"]: 7000}, "days": ["sat", "sun"]},
        ),
        "printer": ("/api/v1/printers", {"name": "Bar", "station": "bar", "host": "192.0.2.50"}),
        "alert_rule": (
            "/api/v1/alerts/rules",
            {
                "channel": "whatsapp",
                "event": "kds.sla_breach.owner",
                "name": "Owner SLA alert",
                "target": "+91 98765 43210",
            },
        ),
        "webhook_endpoint": (
            "/api/v1/webhooks/endpoints",
            {"name": "Accounting sync", "url": "https://hooks.example.com/servio"},
        ),
        "room": ("/api/v1/rooms", {"label": "R101"}),
        "counter": ("/api/v1/counters", {"label": "C1"}),
        "category": ("/api/v1/menu/categories", {"name": "Alpha specials"}),
        "modifier_group": (
            "/api/v1/menu/modifier-groups",
            {"name": "Sugar", "min_select": 0, "max_select": 1},
        ),
        "onboarding": ("/api/v1/onboarding/start", {}),
    }
    for name, (path, body) in owner_calls.items():
        ids[name] = await _created(await client.post(path, json=body, headers=a_owner))

    # Rows the world already made, looked up in the database.
    ids["order_line"] = await _first(db, a.tenant_id, "OrderLine", order_id=order_id)
    ids["kitchen_ticket"] = await _first(db, a.tenant_id, "KitchenTicket")
    ids["outbox_message"] = await _first(db, a.tenant_id, "OutboxMessage")
    ids["modifier"] = await _first(db, a.tenant_id, "Modifier")
    async with db.unit_of_work(tenant_id=a.tenant_id) as uow:
        breach = SlaBreach(
            tenant_id=a.tenant_id,
            outlet_id=a.outlet_id,
            order_id=order_id,
            order_line_id=ids["order_line"],
            station="kitchen",
            overdue_secs=120,
        )
        uow.session.add(breach)
    ids["sla_breach"] = breach.id

    # The callers.
    async with db.unit_of_work(tenant_id=a.tenant_id) as uow:
        second = Outlet(tenant_id=a.tenant_id, name="Alpha Annex")
        uow.session.add(second)
        other_point = ServicePoint(tenant_id=a.tenant_id, outlet_id=a.outlet_id, label="T9")
        uow.session.add(other_point)
    t.second_outlet_id = second.id
    annex_owner = await make_staff(db, bistro.tenant, second, roles=["owner"])
    other_table = await open_table(db, settings, bistro, ("Mallory",), point=other_point)
    disabled = await make_staff(db, bistro.tenant, bistro.outlet, roles=["owner"])
    disabled_headers = await staff_headers(db, disabled, outlet_id=a.outlet_id)
    off = await client.post(f"/api/v1/staff/{disabled.id}/deactivate", headers=a_owner)
    assert off.status_code in (200, 204), off.text
    t.callers = {
        "other tenant's staff": b_owner,
        "other tenant's guest": b.guest("Asha"),
        "anonymous": {},
        "another table's guest": other_table.headers("Mallory"),
        "another outlet's staff": await staff_headers(db, annex_owner, outlet_id=second.id),
        "disabled staff": disabled_headers,
    }
    return t


async def snapshot(db: Database, tenant_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of `tenant_id` in every tenant table (minus SNAPSHOT_EXEMPT), sorted."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with db.unit_of_work(bypass_rls=True) as uow:
        for table in Base.metadata.sorted_tables:
            if table.name in SNAPSHOT_EXEMPT or "tenant_id" not in table.c:
                continue
            rows = await uow.session.execute(select(table).where(table.c.tenant_id == tenant_id))
            found[table.name] = sorted((tuple(map(repr, r)) for r in rows.tuples()), key=str)
    return found


async def tenant_ids(db: Database, tenant_id: str, outlet_id: str | None = None) -> set[str]:
    """Ids of every row of the tenant (or of one of its outlets when `outlet_id` is given)."""
    found: set[str] = set()
    async with db.unit_of_work(bypass_rls=True) as uow:
        for table in Base.metadata.sorted_tables:
            if "id" not in table.c or "tenant_id" not in table.c:
                continue
            query = select(table.c.id).where(table.c.tenant_id == tenant_id)
            if outlet_id is not None:
                if "outlet_id" not in table.c:
                    continue
                query = query.where(table.c.outlet_id == outlet_id)
            found |= {str(v) for v in (await uow.session.execute(query)).scalars()}
    return found


# --- minimal bodies from the OpenAPI -----------------------------------------------------


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def minimal(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """The smallest value that satisfies `schema`'s types and required fields."""
    schema = _resolve(spec, schema)
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            options = [o for o in schema[combinator] if o.get("type") != "null"]
            return minimal(spec, options[0], depth + 1) if options else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: minimal(spec, props[k], depth + 1) for k in schema.get("required", [])}
    if kind == "array":
        count = schema.get("minItems", 0)
        return [minimal(spec, schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), int(schema.get("exclusiveMinimum", 0)) + 1)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-11-22T13:00:00Z"
        return "x" * max(1, int(schema.get("minLength", 1)))
    return None


def request_body(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    media = content.get("application/json")
    if media is None:
        return None
    body = minimal(spec, media.get("schema", {}))
    return body if isinstance(body, dict) else {}
